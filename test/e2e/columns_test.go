package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A column check: what every cell of one column must look like.
type cell func(string) error

func matches(pattern string) cell {
	re := regexp.MustCompile(pattern)
	return func(v string) error {
		if !re.MatchString(v) {
			return fmt.Errorf("%q does not match %s", v, pattern)
		}
		return nil
	}
}

// orEmpty accepts an empty cell (a free organization has no renewal date)
// or one c accepts.
func orEmpty(c cell) cell {
	return func(v string) error {
		if v == "" {
			return nil
		}
		return c(v)
	}
}

// future is a time kubectl prints as RFC 3339, later than now.
func future(v string) error {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return fmt.Errorf("%q is not a date: %w", v, err)
	}
	if !t.After(time.Now()) {
		return fmt.Errorf("%q is not in the future", v)
	}
	return nil
}

var (
	isName     = matches(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	isViewRole = matches(`^(admin|member|viewer|account|platform-admin)$`)
	isObject   = matches(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
	isOptional = matches(`^$|^\S.*\S$|^\S$`)
	isAge      = matches(`^[0-9]+(s|m|h|d|y)([0-9]+(s|m|h))?$`)
	isText     = matches(`^\S.*\S$|^\S$`)
	isTrue     = matches(`^True$`)
	isReason   = matches(`^[A-Z][A-Za-z]+$`)
	isPlan     = matches(`^(free|trial|team|enterprise)$`)
	// isQuota is a quota summary ("500m/2 cpu, 3/10 pods"), empty on a plan without quotas.
	isQuota = matches(`^$|^\S+/\S+ [a-z.]+( limits)?(, \S+/\S+ [a-z.]+( limits)?)*$`)
)

// columns lists, for every kind, the columns `kubectl get` prints (with
// -o wide) and what each cell of a Ready sample must look like. A column
// added to a kind without a check here fails the test, so nobody adds one
// without looking at what it prints.
var columns = []struct {
	args   []string
	checks map[string]cell
}{
	{[]string{"organizations"}, map[string]cell{
		"NAME": isName, "DISPLAY NAME": isText, "PLAN": isPlan, "PHASE": matches(`^(Free|Active|Grace|Restricted)$`),
		"RENEW BY": orEmpty(future), "SEATS": matches(`^[0-9]+/[0-9]+( \([0-9]+ pending\))?$`),
		"USAGE":     matches(`^[0-9]+/[0-9]+ accounts, [0-9]+/[0-9]+ users, [0-9]+/[0-9]+ deployments$`),
		"NAMESPACE": matches(`^org-[a-z0-9-]+$`), "QUOTA": isQuota, "READY": isTrue, "REASON": isReason, "AGE": isAge,
	}},
	{[]string{"accounts", "-A"}, map[string]cell{
		"NAMESPACE": matches(`^org-[a-z0-9-]+$`), "NAME": isName, "DISPLAY NAME": isOptional,
		"ORGANIZATION": isName, "WORKSPACE": isName, "QUOTA": isQuota, "READY": isTrue, "REASON": isReason, "AGE": isAge,
	}},
	{[]string{"licenses"}, map[string]cell{
		"NAME": isName, "ORGANIZATION": isName, "TYPE": isPlan, "PHASE": matches(`^Active$`),
		"EXPIRES": future, "GRACE ENDS": future, "LICENSEE": isText, "LICENSE ID": isText, "READY": isTrue, "AGE": isAge,
	}},
	// The views of my.orgplane.io, as the admin (a platform admin) sees them.
	{[]string{"myorgs"}, map[string]cell{
		"NAME": isName, "DISPLAY NAME": isText, "ROLE": isViewRole, "PLAN": isPlan,
		"PHASE": matches(`^(Free|Active|Grace|Restricted)$`), "SEATS": matches(`^[0-9]+/[0-9]+( \([0-9]+ pending\))?$`),
		"ACCOUNTS": matches(`^[0-9]+$`), "RENEW BY": orEmpty(future),
		"USAGE": matches(`^[0-9]+/[0-9]+ accounts, [0-9]+/[0-9]+ users, [0-9]+/[0-9]+ deployments$`),
		"READY": isTrue, "AGE": isAge,
	}},
	{[]string{"myaccounts"}, map[string]cell{
		"NAME": matches(`^[a-z0-9-]+\.[a-z0-9-]+$`), "ORGANIZATION": isName, "DISPLAY NAME": isOptional,
		"WORKSPACE": isName, "ROLE": isViewRole, "QUOTA": isQuota, "READY": isTrue, "AGE": isAge,
	}},
	{[]string{"users"}, map[string]cell{
		// A ServiceAccount member's User (globex's ci/deployer) has no email.
		"NAME": isObject, "USERNAME": isText, "EMAIL": isOptional,
		"ACTIVE ACCOUNT": matches(`^$|^[a-z0-9-]+/[a-z0-9-]+$`), "READY": isTrue, "AGE": isAge,
	}},
}

// printerColumns prints `kubectl get` and `kubectl get -o wide` for every
// kind and checks every cell of every column reads sensibly: no
// <invalid>, no blank where a Ready object has a value, dates as dates.
func printerColumns(t *testing.T, s *stack) {
	for _, kind := range columns {
		for _, wide := range []bool{false, true} {
			args := append([]string{"get"}, kind.args...)
			if wide {
				args = append(args, "-o", "wide")
			}
			out := s.must(t, args...)
			t.Logf("$ kubectl %s\n%s", strings.Join(args, " "), out)
			for _, err := range checkTable(out, kind.checks) {
				t.Errorf("kubectl %s: %v", strings.Join(args, " "), err)
			}
		}
	}
}

// checkTable cuts kubectl's table at the header's column starts (columns
// are separated by at least three spaces; an empty cell is blank) and
// applies each column's check to each row.
func checkTable(out string, checks map[string]cell) []error {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < 2 {
		return []error{fmt.Errorf("no rows:\n%s", out)}
	}
	names, starts := headerColumns(lines[0])
	var errs []error
	for _, col := range names {
		if checks[col] == nil {
			errs = append(errs, fmt.Errorf("column %s has no check", col))
		}
	}
	for _, line := range lines[1:] {
		row := cut(line, starts)
		for i, v := range row {
			if check := checks[names[i]]; check != nil {
				if err := check(v); err != nil {
					errs = append(errs, fmt.Errorf("%s of %s: %w", names[i], row[0], err))
				}
			}
		}
	}
	return errs
}

func headerColumns(header string) (names []string, starts []int) {
	for _, loc := range regexp.MustCompile(`\S+( \S+)*`).FindAllStringIndex(header, -1) {
		names = append(names, header[loc[0]:loc[1]])
		starts = append(starts, loc[0])
	}
	return names, starts
}

// cut returns the cells of line that start at starts; a cell that does not
// end where the next column starts is reported as the rest of the line.
func cut(line string, starts []int) []string {
	cells := make([]string, len(starts))
	for i, from := range starts {
		to := len(line)
		if i+1 < len(starts) && starts[i+1] < to {
			to = starts[i+1]
		}
		if from < to {
			cells[i] = strings.TrimSpace(line[from:to])
		}
	}
	return cells
}

func TestCheckTable(t *testing.T) {
	checks := map[string]cell{"NAME": isName, "EXPIRES": future, "AGE": isAge}
	tests := map[string]struct {
		out  string
		errs int
	}{
		"valid":               {"NAME   EXPIRES                AGE\nacme   2999-01-01T00:00:00Z   5m3s\n", 0},
		"a date column shows": {"NAME   EXPIRES     AGE\nacme   <invalid>   5m\n", 1},
		"expired":             {"NAME   EXPIRES                AGE\nacme   2001-01-01T00:00:00Z   5m\n", 1},
		"unchecked column":    {"NAME   EXTRA   AGE\nacme   x       5m\n", 1},
		"blank cell":          {"NAME   EXPIRES                AGE\n       2999-01-01T00:00:00Z   5m\n", 1},
		"no rows":             {"No resources found\n", 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if errs := checkTable(tc.out, checks); len(errs) != tc.errs {
				t.Fatalf("got %d errors, want %d: %v", len(errs), tc.errs, errs)
			}
		})
	}
}
