// Package e2e drives the whole product, as `make dev` runs it, with the
// real kubectl.
package e2e

import (
	"bufio"
	"regexp"
	"strings"
)

// step is one `$ command` of a README console block and the output shown
// after it.
type step struct {
	command string
	output  []string
}

// readmeSteps reads the console blocks of a README.
func readmeSteps(readme string) []step {
	var steps []step
	in := false
	sc := bufio.NewScanner(strings.NewReader(readme))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "```console":
			in = true
		case in && line == "```":
			in = false
		case in && strings.HasPrefix(line, "$ "):
			steps = append(steps, step{command: strings.TrimPrefix(line, "$ ")})
		case in && len(steps) > 0:
			steps[len(steps)-1].output = append(steps[len(steps)-1].output, line)
		}
	}
	return steps
}

var (
	age    = regexp.MustCompile(`\b\d+(s|m|h|d)(\d+(s|m))?\b`)
	spaces = regexp.MustCompile(`\s+`)
)

// normalize makes output comparable: ages and runs of spaces vary.
func normalize(lines []string) []string {
	var out []string
	for _, l := range lines {
		l = strings.TrimSpace(spaces.ReplaceAllString(age.ReplaceAllString(l, "<age>"), " "))
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
