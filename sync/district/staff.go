package district

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"

	kiosk "github.com/keqiao/villagekiosk"
)

// Staff is the signed-in district staff member. CSRF is the session's
// token every form carries in its hidden "csrf" field.
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

// maxStaffForm bounds any staff form, uploads included.
const maxStaffForm = 8 << 20

// sessionCookie holds the session token, for /staff only.
const sessionCookie = "vk_staff"

// staff lets signed-in staff through to next. A browser without a live
// session goes to the sign-in page; a form posted without the session's
// CSRF token, or from another site, is refused before next sees it.
func (h *handler) staff(next func(w http.ResponseWriter, r *http.Request, who *Staff)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var token string
		if c, err := r.Cookie(sessionCookie); err == nil {
			token = c.Value
		}
		who, err := h.st.Session(r.Context(), token)
		if err != nil {
			h.staffFail(w, nil, err)
			return
		}
		if who == nil {
			if r.Method != http.MethodGet {
				h.refuse(w, http.StatusForbidden, "登录已过期，请重新登录后再操作。")
				return
			}
			http.Redirect(w, r, "/staff/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxStaffForm)
			if err := parseForm(r); err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					// limitBody names an upload's own, smaller limit when the
					// browser sent a length; this is the answer when it did not.
					h.refuse(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("提交的内容太大（上限 %s），没有保存。上传文件时请确认选对了文件。", kiosk.HumanBytes(tooBig.Limit)))
					return
				}
			}
			if !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(r.FormValue("csrf")), []byte(who.CSRF)) != 1 {
				h.refuse(w, http.StatusForbidden, "这个表单已失效（页面放置太久，或不是从本系统提交的）。请回到上一页，刷新后再试。")
				return
			}
		}
		next(w, r, who)
	}
}

// parseForm reads a posted form, multipart or not, so an over-large body is
// told apart from a missing CSRF token.
func parseForm(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return r.ParseMultipartForm(maxStaffForm)
	}
	return r.ParseForm()
}

// sameOrigin checks the browser's Origin (or, failing that, Referer)
// against the host the request came to.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		origin = r.Header.Get("Referer")
	}
	if origin == "" {
		return true // not a browser's cross-site post: the CSRF token decides
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

// clientIP is the address a request came from, for throttling and the
// audit log (districtd is reached directly or through a proxy that sets
// X-Real-IP).
func clientIP(r *http.Request) string {
	if ip := r.Header.Get("X-Real-IP"); ip != "" {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// audit records what a staff member did.
func (h *handler) audit(ctx context.Context, who *Staff, r *http.Request, action, subject, detail string) error {
	err := h.st.StaffAudit(ctx, who.Username, clientIP(r), action, subject, detail)
	if err != nil && h.opts.Logger != nil {
		h.opts.Logger.Printf("staff audit: %v", err)
	}
	return err
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
		out[name] = template.Must(template.New("").Funcs(staffFuncs).ParseFS(templateFS, "templates/staff_layout.html", n))
	}
	return out
}()

// render writes templates/staff_<name>.html with data. Staff pages hold
// personal data: never cached, never framed, no script but our own.
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
	staffHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func staffHeaders(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin") // no-referrer would make Chromium send "Origin: null" with our own forms
}

// refuse answers with a plain page saying what is wrong.
func (h *handler) refuse(w http.ResponseWriter, status int, msg string) {
	h.render(w, status, "refused", staffPage{Title: "无法完成", District: h.opts.Name, Error: msg})
}

type loginPage struct {
	staffPage
	Username, Next string
}

func (h *handler) loginForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusOK, "login", loginPage{staffPage: staffPage{Title: "工作人员登录", District: h.opts.Name}, Next: safeNext(r.URL.Query().Get("next"))})
}

// safeNext keeps a post-login redirect on our own staff pages.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/staff/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/staff/"
	}
	return next
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !sameOrigin(r) {
		h.refuse(w, http.StatusForbidden, "这个表单不是从本系统提交的。")
		return
	}
	username, password := strings.TrimSpace(r.FormValue("username")), r.FormValue("password")
	next := safeNext(r.FormValue("next"))
	token, who, err := h.st.SignIn(r.Context(), username, password, clientIP(r))
	if err != nil {
		if code := kiosk.ErrorCode(err); code != kiosk.EInvalid && code != kiosk.EUnavailable {
			h.staffFail(w, nil, err)
			return
		}
		h.st.StaffAudit(r.Context(), username, clientIP(r), "sign_in_failed", "", "")
		status := http.StatusUnauthorized
		if err == errThrottled {
			status = http.StatusTooManyRequests
		}
		h.render(w, status, "login", loginPage{staffPage: staffPage{Title: "工作人员登录", District: h.opts.Name, Error: kiosk.ErrorMessage(err)}, Username: username, Next: next})
		return
	}
	h.audit(r.Context(), who, r, "sign_in", "", "")
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/staff", HttpOnly: true,
		Secure: r.TLS != nil || h.opts.SecureCookies, SameSite: http.SameSiteStrictMode, MaxAge: int(sessionLifetime.Seconds())})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request, who *Staff) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		h.st.SignOut(r.Context(), c.Value)
	}
	h.audit(r.Context(), who, r, "sign_out", "", "")
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/staff", HttpOnly: true, MaxAge: -1,
		Secure: r.TLS != nil || h.opts.SecureCookies, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/staff/login", http.StatusSeeOther)
}
