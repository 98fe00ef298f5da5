package district_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/keqiao/villagekiosk/internal/pgtest"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/assets"
)

// upload posts a file as a browser's multipart form does, with the page's
// CSRF token.
func (s *staffClient) upload(path, field, name string, data []byte, csrf string) page {
	s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if csrf != "" {
		mw.WriteField("csrf", csrf)
	}
	fw, _ := mw.CreateFormFile(field, name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", s.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return s.do(req)
}

func shippedCatalog(t testing.TB) *kiosk.Catalog {
	t.Helper()
	c, err := kiosk.ParseCatalog(assets.DefaultCatalog)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func catalogJSON(t testing.TB, c *kiosk.Catalog) []byte {
	t.Helper()
	b, err := json.MarshalIndent(c, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// editedCatalog is the shipped catalog as 2026.2: one sub-item removed, one
// added (with HTML in its name), one with a shorter time limit and a new
// material, one with a new form field.
func editedCatalog(t testing.TB) (*kiosk.Catalog, []byte) {
	c := shippedCatalog(t)
	c.Version = "2026.2"
	m := &c.MainItems[0]
	removed := m.SubItems[len(m.SubItems)-1]
	m.SubItems = m.SubItems[:len(m.SubItems)-1]
	s := &m.SubItems[0] // 社会保障卡首次申领, 10 days
	s.TimeLimit.PromisedDays = 5
	s.Materials = append(s.Materials, kiosk.Material{Name: "近期免冠照片", Form: kiosk.Original, Copies: 1, Required: true})
	f := &c.MainItems[1].SubItems[0]
	f.Form = append(f.Form, kiosk.Field{ID: "bank", Label: "开户银行", Kind: kiosk.KindText})
	added := m.SubItems[0]
	added.Code, added.Name = m.Code+"-99", `社保卡<img src=x onerror=alert(1)>加急`
	m.SubItems = append(m.SubItems, added)
	_ = removed
	return c, catalogJSON(t, c)
}

// TestCatalogPage runs on SQLite and on PostgreSQL.
func TestCatalogPage(t *testing.T) { pgtest.Engines(t, testCatalogPage) }

func testCatalogPage(t *testing.T, dbURL string) {
	e := newStaffEnvOn(t, dbURL)
	s := signIn(t, e.srv.URL)
	ctx := context.Background()
	shipped := shippedCatalog(t)

	t.Run("OK", func(t *testing.T) {
		p := s.get("/staff/catalog")
		if p.Status != 200 || !strings.Contains(p.Body, "2026.1（随软件安装") || !strings.Contains(p.Body, "37 个主项，131 个子项") {
			t.Fatalf("got %d", p.Status)
		}
	})
	edited, doc := editedCatalog(t)
	var stagedURL string
	t.Run("UploadShowsDiff", func(t *testing.T) {
		up := s.upload("/staff/catalog/upload", "catalog", "2026.2.json", doc, s.csrf("/staff/catalog"))
		if up.Status != 303 || !strings.HasPrefix(up.Location, "/staff/catalog/staged/") {
			t.Fatalf("got %d %s: %s", up.Status, up.Location, up.Body)
		}
		stagedURL = up.Location
		if _, _, err := e.st.Catalog(ctx); kiosk.ErrorCode(err) != kiosk.ENotFound {
			t.Fatal("an upload alone must not publish")
		}
		p := s.get(stagedURL)
		first, last := shipped.MainItems[0].SubItems[0], shipped.MainItems[0].SubItems[len(shipped.MainItems[0].SubItems)-1]
		field := shipped.MainItems[1].SubItems[0]
		for _, want := range []string{
			"2026.1（随软件安装的目录） → 2026.2",
			"新增子项 <b>1</b>", "删除子项 <b>1</b>", "修改子项 <b>2</b>",
			`社保卡&lt;img src=x onerror=alert(1)&gt;加急`,
			last.Name,
			`<td class="el">办理时限</td><td>承诺10个工作日 → 承诺5个工作日</td>`,
			`<td class="el">申请材料</td><td>增加：近期免冠照片</td>`,
			`<td class="el">表单内容</td><td>增加：bank</td>`,
			first.Code, field.Code, "确认发布 2026.2",
		} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("diff lacks %q", want)
			}
		}
		if strings.Contains(p.Body, "<img src=x") {
			t.Error("an item name's HTML reached the page unescaped")
		}
	})
	t.Run("Publish", func(t *testing.T) {
		sha := strings.TrimPrefix(stagedURL, "/staff/catalog/staged/")
		p := s.post("/staff/catalog/publish", url.Values{"csrf": {s.csrf(stagedURL)}, "sha": {sha}})
		if p.Status != 303 || p.Location != "/staff/catalog?done=published" {
			t.Fatalf("got %d %s", p.Status, p.Location)
		}
		got, gotSHA, err := e.st.Catalog(ctx)
		if err != nil || !bytes.Equal(got, doc) || gotSHA != sha {
			t.Fatalf("published %d bytes %s (%v), want the staged document", len(got), gotSHA, err)
		}
		if n := e.audited(t, "2026.2", "catalog.publish"); n != 1 {
			t.Errorf("audit: %d catalog.publish lines, want 1", n)
		}
		page := s.get(p.Location)
		if !strings.Contains(page.Body, "新目录已发布") || !strings.Contains(page.Body, "<dd>2026.2</dd>") {
			t.Fatal("the page does not show the published catalog")
		}
		// A kiosk downloads it.
		if dl, err := e.kiosks["online"].Catalog(ctx, sha); err != nil || !bytes.Equal(dl, doc) {
			t.Fatalf("kiosk download: %v", err)
		}
		again := s.post("/staff/catalog/publish", url.Values{"csrf": {s.csrf("/staff/catalog")}, "sha": {sha}})
		if again.Status != 404 || !strings.Contains(again.Body, "已经发布") {
			t.Fatalf("publishing twice: got %d", again.Status)
		}
		_ = edited
	})
	t.Run("SameDocumentNeedsNoPublishing", func(t *testing.T) {
		up := s.upload("/staff/catalog/upload", "catalog", "again.json", doc, s.csrf("/staff/catalog"))
		p := s.get(up.Location)
		if !strings.Contains(p.Body, "完全相同") || strings.Contains(p.Body, `id="publish"`) {
			t.Fatal("re-uploading the catalog in use should say so and offer no publish button")
		}
	})
	catalogBefore, _, _ := e.st.Catalog(ctx)
	bad := shippedCatalog(t)
	bad.Version = "2026.3"
	sub := &bad.MainItems[2].SubItems[0]
	sub.TimeLimit = kiosk.TimeLimit{PromisedDays: 30, StatutoryDays: 20}
	sub.Materials[0].Copies = 0
	for _, tc := range []struct {
		name, file string
		data       []byte
		status     int
		want       []string
	}{
		{"ErrInvalidCatalog", "bad.json", catalogJSON(t, bad), 422, []string{
			"子项“" + sub.Name + "”（" + sub.Code + "）：承诺时限30个工作日超过了法定时限20个工作日",
			"子项“" + sub.Name + "”（" + sub.Code + "）：申请材料第1项“" + sub.Materials[0].Name + "”的份数至少为1",
			"没有通过检查，未发布"}},
		{"ErrNotJSON", "notes.txt", []byte("这不是目录"), 422, []string{"文件不是规定格式的 JSON 目录"}},
		{"ErrUnknownField", "typo.json", []byte(`{"version":"x","publisher":"p","published_at":"2026-01-01","main_itemz":[]}`), 422, []string{"有无法识别的字段“main_itemz”"}},
		{"ErrHTMLInFileName", `<i onmouseover=alert(1)>x.json`, []byte("{}"), 422, []string{"“&lt;i onmouseover=alert(1)&gt;x.json”没有通过检查", "缺少目录版本号"}},
		{"ErrOversized", "big.json", bytes.Repeat([]byte(" "), 5<<20), 413, []string{"超过 4.0 MB 的上限，没有保存"}},
		{"ErrEmpty", "", nil, 400, []string{"请先选择要上传的文件"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p page
			if tc.file == "" {
				p = s.post("/staff/catalog/upload", url.Values{"csrf": {s.csrf("/staff/catalog")}})
			} else {
				p = s.upload("/staff/catalog/upload", "catalog", tc.file, tc.data, s.csrf("/staff/catalog"))
			}
			if p.Status != tc.status {
				t.Fatalf("got %d, want %d: %s", p.Status, tc.status, p.Body)
			}
			for _, w := range tc.want {
				if !strings.Contains(p.Body, w) {
					t.Errorf("page lacks %q:\n%s", w, problemsOf(p.Body))
				}
			}
			if now, _, _ := e.st.Catalog(ctx); !bytes.Equal(now, catalogBefore) {
				t.Fatal("a refused upload changed the published catalog")
			}
		})
	}
	t.Run("ErrNoCSRF", func(t *testing.T) {
		p := s.upload("/staff/catalog/upload", "catalog", "c.json", doc, "")
		if p.Status != 403 {
			t.Fatalf("got %d, want 403", p.Status)
		}
	})
	t.Run("ErrUnknownStaged", func(t *testing.T) {
		for _, path := range []string{"/staff/catalog/staged/" + strings.Repeat("ab", 32), "/staff/catalog/staged/..%2F..%2Fdistrict.db", "/staff/catalog/staged/%27%20OR%201=1"} {
			if p := s.get(path); p.Status != 404 || !strings.Contains(p.Body, "请重新上传") {
				t.Errorf("%s: got %d", path, p.Status)
			}
		}
		p := s.post("/staff/catalog/publish", url.Values{"csrf": {s.csrf("/staff/catalog")}, "sha": {"' OR 1=1 --"}})
		if p.Status != 404 {
			t.Fatalf("got %d", p.Status)
		}
	})
	t.Run("Holidays", func(t *testing.T) {
		doc := []byte(`{"year":2027,"source":"国务院办公厅关于2027年部分节假日安排的通知","days_off":[{"date":"2027-01-01","name":"元旦"}],"working_weekends":[{"date":"2027-02-20","name":"春节"}]}`)
		p := s.upload("/staff/catalog/holidays", "holidays", "2027.json", doc, s.csrf("/staff/catalog"))
		if p.Status != 303 {
			t.Fatalf("got %d: %s", p.Status, p.Body)
		}
		page := s.get(p.Location)
		if !strings.Contains(page.Body, "节假日安排已发布") || !strings.Contains(page.Body, "<td>2027</td><td>国务院办公厅关于2027年部分节假日安排的通知</td>") {
			t.Fatal("the page does not list 2027")
		}
		if got, _, err := e.st.Document(ctx, "holidays", "2027"); err != nil || !bytes.Equal(got, doc) {
			t.Fatalf("store: %v", err)
		}
		if n := e.audited(t, "2027", "holidays.publish"); n != 1 {
			t.Errorf("audit: %d holidays.publish lines, want 1", n)
		}
	})
	t.Run("ErrHolidays", func(t *testing.T) {
		for _, tc := range []struct{ doc, want string }{
			{`{"year":2027,"source":"s","days_off":[],"working_weekends":[{"date":"2027-03-03","name":"x"}]}`, "2027年的调休上班日 2027-03-03 不是周末"},
			{`{"year":2027,"source":"s","days_off":[{"date":"2028-01-01","name":"元旦"}],"working_weekends":[]}`, "2027年的放假日期“2028-01-01”不是2027年内的日期"},
			{`<html>`, "不是规定格式的节假日安排"},
		} {
			p := s.upload("/staff/catalog/holidays", "holidays", "h.json", []byte(tc.doc), s.csrf("/staff/catalog"))
			if p.Status != 422 || !strings.Contains(p.Body, tc.want) {
				t.Errorf("got %d, want 422 …%s…: %s", p.Status, tc.want, problemsOf(p.Body))
			}
		}
		p := s.upload("/staff/catalog/holidays", "holidays", "h.json", bytes.Repeat([]byte("x"), 400<<10), s.csrf("/staff/catalog"))
		if p.Status != 413 {
			t.Errorf("oversized: got %d", p.Status)
		}
	})
}

var alertBox = regexp.MustCompile(`(?s)<div class="error".*?</div>|<ol class="problems".*?</ol>`)

func problemsOf(body string) string { return strings.Join(alertBox.FindAllString(body, -1), "\n") }
