package district

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/assets"
)

// Upload limits: the shipped catalog is about 0.4 MB, a year's holidays 2 KB.
const (
	maxCatalogUpload  = 4 << 20
	maxHolidaysUpload = 256 << 10
	stagedFor         = 24 * time.Hour
)

// limitBody refuses, before anything reads it, a request body over limit,
// in words a person understands, and bounds what is read of the rest.
func limitBody(limit int64, what string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			fmt.Fprintf(w, "上传的%s超过 %s 的上限，没有保存。请确认选对了文件。\n", what, kiosk.HumanBytes(limit-64<<10))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next(w, r)
	}
}

type catalogInfo struct {
	Version, Publisher, PublishedAt, Published string
	Shipped                                    bool
	Mains, Subs, OnSpot, IDCardOnly            int
}

type holidayInfo struct{ Year, Published, Source string }

type catalogPage struct {
	staffPage
	Current  catalogInfo
	Problems []string
	FileName string
	Holidays []holidayInfo
	// On the staged page:
	SHA            string
	Staged         *catalogInfo
	Diff           *catalogDiff
	SameVersion    bool
	SameDocument   bool
	MaxCatalogSize string
}

func infoOf(c *kiosk.Catalog) catalogInfo {
	i := catalogInfo{Version: c.Version, Publisher: c.Publisher, PublishedAt: c.PublishedAt}
	i.Mains, i.Subs = c.Stats()
	for _, m := range c.MainItems {
		for _, s := range m.SubItems {
			if s.TimeLimit.OnTheSpot {
				i.OnSpot++
			}
			if s.IDCardOnly {
				i.IDCardOnly++
			}
		}
	}
	return i
}

// currentCatalog is the catalog kiosks use now: the newest published, or
// the one shipped with the kiosk before the first publication.
func (s *Store) currentCatalog(ctx context.Context) (*kiosk.Catalog, catalogInfo, string, error) {
	var sha, at string
	err := s.db.QueryRowContext(ctx, `SELECT sha256, published_at FROM catalogs ORDER BY published_at DESC, id DESC LIMIT 1`).Scan(&sha, &at)
	if errors.Is(err, sql.ErrNoRows) {
		c, err := kiosk.ParseCatalog(assets.DefaultCatalog)
		if err != nil {
			return nil, catalogInfo{}, "", err
		}
		i := infoOf(c)
		i.Shipped = true
		sum := sha256.Sum256(assets.DefaultCatalog)
		return c, i, hex.EncodeToString(sum[:]), nil
	}
	if err != nil {
		return nil, catalogInfo{}, "", err
	}
	c, err := s.catalogBySHA(ctx, sha)
	if err != nil {
		return nil, catalogInfo{}, "", err
	}
	i := infoOf(c)
	if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
		i.Published = t.In(kiosk.ChinaTime).Format("2006-01-02 15:04")
	}
	return c, i, sha, nil
}

// stage keeps an uploaded document until it is published or a day old.
func (s *Store) stage(ctx context.Context, kind string, doc []byte, by string) (string, error) {
	sum := sha256.Sum256(doc)
	sha := hex.EncodeToString(sum[:])
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM staged_documents WHERE staged_at < ?`, s.Now().Add(-stagedFor).UTC().Format(time.RFC3339Nano)); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO staged_documents (sha256, kind, document, staged_by, staged_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (sha256) DO UPDATE SET staged_by = excluded.staged_by, staged_at = excluded.staged_at`, sha, kind, doc, by, s.now()); err != nil {
		return "", err
	}
	return sha, tx.Commit()
}

// staged returns a staged document; ENotFound when unknown or over a day old.
func (s *Store) staged(ctx context.Context, kind, sha string) ([]byte, error) {
	var doc []byte
	err := s.db.QueryRowContext(ctx, `SELECT document FROM staged_documents WHERE sha256 = ? AND kind = ? AND staged_at >= ?`,
		sha, kind, s.Now().Add(-stagedFor).UTC().Format(time.RFC3339Nano)).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kiosk.Errorf(kiosk.ENotFound, "no staged %s %s", kind, sha)
	}
	return doc, err
}

func (s *Store) unstage(ctx context.Context, sha string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM staged_documents WHERE sha256 = ?`, sha)
	return err
}

func (s *Store) publishedHolidays(ctx context.Context) ([]holidayInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, published_at, document FROM documents WHERE kind = 'holidays' ORDER BY version DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []holidayInfo
	for rows.Next() {
		var h holidayInfo
		var at string
		var doc []byte
		if err := rows.Scan(&h.Year, &at, &doc); err != nil {
			return nil, err
		}
		if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
			h.Published = t.In(kiosk.ChinaTime).Format("2006-01-02 15:04")
		}
		var y kiosk.HolidayYear
		json.Unmarshal(doc, &y) // validated when it was published
		h.Source = y.Source
		out = append(out, h)
	}
	return out, rows.Err()
}

func (h *handler) newCatalogPage(ctx context.Context, who *Staff) (catalogPage, *kiosk.Catalog, string, error) {
	p := catalogPage{staffPage: staffPage{Title: "事项目录", District: h.opts.Name, Staff: who}, MaxCatalogSize: kiosk.HumanBytes(maxCatalogUpload)}
	cur, info, sha, err := h.st.currentCatalog(ctx)
	if err != nil {
		return p, nil, "", err
	}
	p.Current = info
	if p.Holidays, err = h.st.publishedHolidays(ctx); err != nil {
		return p, nil, "", err
	}
	return p, cur, sha, nil
}

var catalogFlash = map[string]string{
	"published": "新目录已发布，各村终端下次同步时自动更新。",
	"holidays":  "节假日安排已发布，各村终端下次同步时自动更新，回执上的办结日期随之计算。",
}

func (h *handler) catalogPage(w http.ResponseWriter, r *http.Request, who *Staff) {
	p, _, _, err := h.newCatalogPage(r.Context(), who)
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	p.Flash = catalogFlash[r.URL.Query().Get("done")]
	h.render(w, http.StatusOK, "catalog", p)
}

// uploadedFile reads a form's file field, bounded by limit; the message is
// for the page when it fails.
func uploadedFile(r *http.Request, field string, limit int64) ([]byte, string, int, string) {
	f, hdr, err := r.FormFile(field)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, "", http.StatusRequestEntityTooLarge, fmt.Sprintf("文件超过 %s 的上限，没有保存。", kiosk.HumanBytes(limit))
		}
		return nil, "", http.StatusBadRequest, "请先选择要上传的文件。"
	}
	defer f.Close()
	doc, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, "", http.StatusBadRequest, "文件没有读完整，请重新上传。"
	}
	if int64(len(doc)) > limit {
		return nil, "", http.StatusRequestEntityTooLarge, fmt.Sprintf("文件超过 %s 的上限，没有保存。", kiosk.HumanBytes(limit))
	}
	return doc, hdr.Filename, 0, ""
}

// catalogUpload validates an uploaded catalog and keeps it, by its SHA-256,
// for the page that shows what publishing it would change.
func (h *handler) catalogUpload(w http.ResponseWriter, r *http.Request, who *Staff) {
	ctx := r.Context()
	p, _, _, err := h.newCatalogPage(ctx, who)
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	doc, name, status, msg := uploadedFile(r, "catalog", maxCatalogUpload)
	if msg != "" {
		p.Error = msg
		h.render(w, status, "catalog", p)
		return
	}
	p.FileName = name
	if _, err := kiosk.ParseCatalog(doc); err != nil {
		p.Error = fmt.Sprintf("“%s”没有通过检查，未发布。请改正下面的问题后重新上传：", name)
		p.Problems = catalogProblemsZh(err)
		h.render(w, http.StatusUnprocessableEntity, "catalog", p)
		return
	}
	sha, err := h.st.stage(ctx, "catalog", doc, who.Username)
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	http.Redirect(w, r, "/staff/catalog/staged/"+sha, http.StatusSeeOther)
}

// catalogStaged shows a staged catalog against the one in use, with the
// button that publishes it.
func (h *handler) catalogStaged(w http.ResponseWriter, r *http.Request, who *Staff) {
	ctx := r.Context()
	p, cur, curSHA, err := h.newCatalogPage(ctx, who)
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	sha := r.PathValue("sha")
	if !ValidSHA(sha) {
		p.Error = "没有这份待发布的目录：链接不完整。请重新上传。"
		h.render(w, http.StatusNotFound, "catalog", p)
		return
	}
	doc, err := h.st.staged(ctx, "catalog", sha)
	if kiosk.ErrorCode(err) == kiosk.ENotFound {
		p.Error = "这份待发布的目录已经发布、或上传超过24小时已失效。请重新上传。"
		h.render(w, http.StatusNotFound, "catalog", p)
		return
	} else if err != nil {
		h.staffFail(w, who, err)
		return
	}
	c, err := kiosk.ParseCatalog(doc)
	if err != nil {
		p.Error = "这份目录没有通过检查。"
		p.Problems = catalogProblemsZh(err)
		h.render(w, http.StatusUnprocessableEntity, "catalog", p)
		return
	}
	info := infoOf(c)
	p.Title, p.SHA, p.Staged, p.Diff = "发布前核对", sha, &info, diffCatalogs(cur, c)
	p.SameDocument = sha == curSHA
	p.SameVersion = !p.SameDocument && c.Version == cur.Version
	h.render(w, http.StatusOK, "catalog", p)
}

// catalogPublish publishes the staged catalog named by its SHA-256.
func (h *handler) catalogPublish(w http.ResponseWriter, r *http.Request, who *Staff) {
	ctx := r.Context()
	sha := r.FormValue("sha")
	doc, err := h.st.staged(ctx, "catalog", sha)
	if err != nil || !ValidSHA(sha) {
		p, _, _, perr := h.newCatalogPage(ctx, who)
		if perr != nil {
			h.staffFail(w, who, perr)
			return
		}
		p.Error = "这份待发布的目录已经发布、或上传超过24小时已失效，没有发布。请重新上传。"
		h.render(w, http.StatusNotFound, "catalog", p)
		return
	}
	c, err := h.st.PublishCatalog(ctx, doc)
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	m, n := c.Stats()
	if err := h.audit(ctx, who, r, "catalog.publish", c.Version, fmt.Sprintf("sha256 %s, %d main items, %d sub-items", sha, m, n)); err != nil {
		h.staffFail(w, who, err)
		return
	}
	if err := h.st.unstage(ctx, sha); err != nil {
		h.staffFail(w, who, err)
		return
	}
	http.Redirect(w, r, "/staff/catalog?done=published", http.StatusSeeOther)
}

// holidaysPublish publishes a year's official holiday arrangement.
func (h *handler) holidaysPublish(w http.ResponseWriter, r *http.Request, who *Staff) {
	ctx := r.Context()
	p, _, _, err := h.newCatalogPage(ctx, who)
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	doc, name, status, msg := uploadedFile(r, "holidays", maxHolidaysUpload)
	if msg != "" {
		p.Error = "节假日安排：" + msg
		h.render(w, status, "catalog", p)
		return
	}
	year, err := h.st.PublishHolidays(ctx, doc)
	if kiosk.ErrorCode(err) == kiosk.EInvalid {
		p.Error = fmt.Sprintf("“%s”没有通过检查，未发布：%s", name, holidayProblemZh(err))
		h.render(w, http.StatusUnprocessableEntity, "catalog", p)
		return
	} else if err != nil {
		h.staffFail(w, who, err)
		return
	}
	if err := h.audit(ctx, who, r, "holidays.publish", fmt.Sprint(year), name); err != nil {
		h.staffFail(w, who, err)
		return
	}
	http.Redirect(w, r, "/staff/catalog?done=holidays", http.StatusSeeOther)
}
