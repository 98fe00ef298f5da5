package district

// STAND-IN. This file stands in for the staff sign-in framework that is
// built on another branch (accounts, sessions, CSRF, audit log, layout);
// the lead replaces it, and templates/staff_layout.html, at merge. The
// pages of this branch use only the contract below: Staff, staffPage,
// h.staff, h.audit and h.render.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"testing"
)

// Staff is the signed-in district staff member.
type Staff struct {
	Username, Name, CSRF string
}

// staffPage is what every staff page's data embeds.
type staffPage struct {
	Title    string
	District string
	Staff    *Staff
	Flash    string
	Error    string
}

// testStaffHeader signs a request in as the named user, and only inside
// `go test` (testing.Testing): the stand-in has no accounts.
const testStaffHeader = "X-Test-Staff"

// staff lets signed-in staff through, checking the form's csrf field on POST.
func (h *handler) staff(next func(w http.ResponseWriter, r *http.Request, who *Staff)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user := r.Header.Get(testStaffHeader)
		if user == "" || !testing.Testing() {
			http.Redirect(w, r, "/staff/login", http.StatusSeeOther)
			return
		}
		sum := sha256.Sum256([]byte("csrf:" + user))
		who := &Staff{Username: user, Name: user, CSRF: hex.EncodeToString(sum[:16])}
		if r.Method == http.MethodPost {
			if r.Body != nil {
				r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
			}
			if r.FormValue("csrf") != who.CSRF {
				http.Error(w, "表单已过期，请刷新页面后重试。", http.StatusForbidden)
				return
			}
		}
		next(w, r, who)
	}
}

// audit records a staff action; the stand-in only logs it.
func (h *handler) audit(ctx context.Context, who *Staff, r *http.Request, action, subject, detail string) error {
	if h.opts.Logger != nil {
		h.opts.Logger.Printf("audit: %s %s %s", who.Username, action, subject)
	}
	return nil
}

// staffTemplates are templates/staff_<name>.html, each parsed with the layout.
var staffTemplates = func() map[string]*template.Template {
	names, _ := fs.Glob(templateFS, "templates/staff_*.html")
	out := map[string]*template.Template{}
	for _, n := range names {
		if n == "templates/staff_layout.html" {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/staff_"), ".html")
		out[name] = template.Must(template.ParseFS(templateFS, "templates/staff_layout.html", n))
	}
	return out
}()

// render writes templates/staff_<name>.html with data.
func (h *handler) render(w http.ResponseWriter, status int, name string, data any) {
	t, ok := staffTemplates[name]
	if !ok {
		http.Error(w, fmt.Sprintf("no page %q", name), http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "staff_"+name+".html", data); err != nil {
		if h.opts.Logger != nil {
			h.opts.Logger.Printf("render %s: %v", name, err)
		}
		http.Error(w, "页面出错，请稍后再试。", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
