package district_test

import (
	"net/url"
	"strings"
	"testing"
)

func TestPointsPage(t *testing.T) {
	e := newStaffEnv(t)
	s := signIn(t, e.srv.URL)
	p := s.get("/staff/points")
	if p.Status != 200 {
		t.Fatalf("got %d: %s", p.Status, p.Body)
	}
	t.Log(len(p.Body))
	_ = url.Values{}
	_ = strings.Contains
}
