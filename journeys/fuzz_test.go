package journeys

import "testing"

// FuzzRestoreCustomer: no input panics RestoreCustomer, and whatever it
// accepts encodes again and restores to the same bytes.
func FuzzRestoreCustomer(f *testing.F) {
	e := exampleEngine(f, "")
	r := newRun(f, e)
	r.script("ev add_to_cart c1 +0s price=5\nev account_opened c1 +1s\nev payment_failed c1 +2s\nwm +31m\nev purchase c1 +40m")
	data, ok := r.st.AppendCustomer(nil, []byte("c1"))
	if !ok {
		f.Fatal("no state")
	}
	f.Add(data)
	f.Add([]byte{stateVersion, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		st := e.NewState()
		if err := st.RestoreCustomer([]byte("c"), data); err != nil {
			return
		}
		again, ok := st.AppendCustomer(nil, []byte("c"))
		if !ok {
			return // nothing valid was left
		}
		st2 := e.NewState()
		if err := st2.RestoreCustomer([]byte("c"), again); err != nil {
			t.Fatalf("re-encoded state does not restore: %v", err)
		}
		third, _ := st2.AppendCustomer(nil, []byte("c"))
		if string(third) != string(again) {
			t.Fatalf("restore is not stable:\n%x\n%x", again, third)
		}
		var out Output
		st2.Advance(1<<62, func([]byte) Facts { return nil }, quietActor{}, &out)
	})
}
