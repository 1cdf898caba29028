package calendar

import "testing"

// Issue 12: the built-in 2027 is provisional until the official file is
// imported, and every date computed across it says so.
func TestStatusProvisionalUntilImported(t *testing.T) {
	c := Default()
	if s, ok := c.Status(2026); !ok || s != StatusOfficial {
		t.Errorf("Status(2026) = %q, %v", s, ok)
	}
	if s, ok := c.Status(2027); !ok || s != StatusProvisional {
		t.Errorf("Status(2027) = %q, %v", s, ok)
	}
	if _, ok := c.Status(2028); ok {
		t.Error("Status(2028) ok")
	}
	if s := c.StatusBetween(NewDate(2026, 12, 20), NewDate(2026, 12, 31)); s != StatusOfficial {
		t.Errorf("StatusBetween within 2026 = %q", s)
	}
	if s := c.StatusBetween(NewDate(2027, 1, 5), NewDate(2026, 12, 20)); s != StatusProvisional {
		t.Errorf("StatusBetween across into 2027 = %q", s)
	}
	closed := c.WithClosure(NewDate(2027, 3, 3))
	if s, _ := closed.Status(2027); s != StatusProvisional {
		t.Errorf("a closure changed the status to %q", s)
	}
	t27, _ := Builtin(2027)
	imported := closed.WithYear(t27)
	if s, _ := imported.Status(2027); s != StatusOfficial {
		t.Errorf("after WithYear Status(2027) = %q", s)
	}
	if s, _ := c.Status(2027); s != StatusProvisional {
		t.Error("WithYear changed the original calendar")
	}
	if s := imported.StatusBetween(NewDate(2026, 12, 20), NewDate(2027, 1, 5)); s != StatusOfficial {
		t.Errorf("StatusBetween after import = %q", s)
	}
	back := imported.WithProvisionalYear(t27)
	if s, _ := back.Status(2027); s != StatusProvisional {
		t.Errorf("WithProvisionalYear Status = %q", s)
	}
}

func TestCoveredThrough(t *testing.T) {
	c := Default()
	if d, ok := c.CoveredThrough(NewDate(2026, 11, 23)); !ok || d != NewDate(2027, 12, 31) {
		t.Errorf("CoveredThrough(2026-11-23) = %s, %v", d, ok)
	}
	gap := New(mustBuiltin(t, 2024), mustBuiltin(t, 2026))
	if d, ok := gap.CoveredThrough(NewDate(2024, 5, 1)); !ok || d != NewDate(2024, 12, 31) {
		t.Errorf("across a gap CoveredThrough = %s, %v", d, ok)
	}
	if _, ok := gap.CoveredThrough(NewDate(2025, 5, 1)); ok {
		t.Error("CoveredThrough from an unknown year ok")
	}
}
