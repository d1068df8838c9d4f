package v1alpha1

import (
	"encoding/json"
	"testing"
)

// Organizations stored before status.plan became an object have the plan
// type there as a string: they still read, as a plan of that type the
// organization reconciler replaces on its next pass.
func TestPlanReadsTheStringStoredBefore(t *testing.T) {
	for stored, want := range map[string]string{
		`{"status":{"plan":"team"}}`:                                                             "team",
		`{"status":{"plan":{"type":"trial","phase":"Grace"}}}`:                                   "trial",
		`{"status":{"plan":{"type":"free","limits":{"accounts":3,"users":5,"deployments":10}}}}`: "free",
	} {
		o := &Organization{}
		if err := json.Unmarshal([]byte(stored), o); err != nil {
			t.Fatalf("%s: %v", stored, err)
		}
		if o.Status.Plan == nil || o.Status.Plan.Type != want {
			t.Errorf("%s: plan %+v, want type %s", stored, o.Status.Plan, want)
		}
	}
	o := &Organization{}
	if err := json.Unmarshal([]byte(`{"status":{"plan":{"type":"trial","phase":"Grace"}}}`), o); err != nil || o.Status.Plan.Phase != PlanPhaseGrace {
		t.Errorf("phase %v, %v", o.Status.Plan, err)
	}
}
