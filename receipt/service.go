package receipt

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"image"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/assets"
)

// Service implements kiosk.ReceiptService over the kiosk's other services.
type Service struct {
	Submissions kiosk.SubmissionService
	Catalog     kiosk.CatalogService
	Settings    kiosk.SettingsService
	Audit       kiosk.AuditService
	Calendar    *kiosk.Calendar
	// ExtraHolidays returns holiday arrangements the district published
	// since this kiosk was built; each replaces the shipped copy of its year.
	ExtraHolidays func(ctx context.Context) [][]byte
	Key           ed25519.PrivateKey
	Now           func() time.Time
	// FileDir is where receipts are saved as PNG while no printer is set up.
	FileDir string
}

var _ kiosk.ReceiptService = (*Service)(nil)

// Build gathers the receipt of a saved submission.
func (s *Service) Build(ctx context.Context, id string, reprint bool) (*Receipt, error) {
	sub, err := s.Submissions.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	point, err := s.Settings.Point(ctx)
	if err != nil {
		return nil, err
	}
	item := &kiosk.SubItem{Name: sub.MatterName}
	if cat, _, err := s.Catalog.Active(ctx); err == nil {
		if _, found, ok := cat.Sub(sub.Matter); ok {
			item = found
		}
	}
	district, _ := s.Settings.Get(ctx, kiosk.SettingDistrictURL)
	sig, _ := s.Settings.Get(ctx, kiosk.SettingSignature)
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	cal := s.Calendar
	if s.ExtraHolidays != nil {
		if extra := s.ExtraHolidays(ctx); len(extra) > 0 {
			if c, err := kiosk.ParseHolidayYears(append(assets.HolidayYears(), extra...)...); err == nil {
				cal = c
			}
		}
	}
	return Build(sub, item, point, cal, s.Key, Options{DistrictURL: district, Signature: sig == "true", Copy: reprint, Now: now()})
}

// PrinterConfig reads the configured printer; the default before set-up is
// a PNG file in FileDir, so a receipt is never just lost.
func (s *Service) PrinterConfig(ctx context.Context) (Config, error) {
	raw, err := s.Settings.Get(ctx, kiosk.SettingPrinter)
	if err != nil {
		return Config{}, err
	}
	if raw == "" {
		return Config{Kind: KindFile, Target: s.FileDir, Paper: "png"}, nil
	}
	var c Config
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return Config{}, fmt.Errorf("printer settings are damaged: %w", err)
	}
	return c, nil
}

// Print prints a receipt and records it in the audit log.
func (s *Service) Print(ctx context.Context, id string, reprint bool, agent *kiosk.Agent) error {
	r, err := s.Build(ctx, id, reprint)
	if err != nil {
		return err
	}
	cfg, err := s.PrinterConfig(ctx)
	if err != nil {
		return err
	}
	if err := s.noted(ctx, Print(ctx, cfg, r)); err != nil {
		return err
	}
	detail := "print"
	if reprint {
		detail = "reprint"
	}
	who := ""
	if agent != nil {
		who = agent.Name
	}
	return s.Audit.Record(ctx, who, kiosk.ActionPrint, r.ReceiptNo, detail+" "+cfg.Kind)
}

// Preview renders the receipt for the screen (58 mm layout at double size).
func (s *Service) Preview(ctx context.Context, id string) (image.Image, error) {
	r, err := s.Build(ctx, id, false)
	if err != nil {
		return nil, err
	}
	return Render(r, Width58mm*2)
}

// PrintTest prints a sample receipt on the configured printer, so a
// technician can check the printer without a real matter.
func (s *Service) PrintTest(ctx context.Context) error {
	cfg, err := s.PrinterConfig(ctx)
	if err != nil {
		return err
	}
	point, _ := s.Settings.Point(ctx)
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	r := &Receipt{
		ReceiptNo: "打印测试页", MatterName: "打印测试（不是回执）", MainName: "打印测试（不是回执）", Matter: "TEST",
		Applicant: "测试", IDMasked: "——", Point: point, Agent: "——", At: now.In(kiosk.ChinaTime),
		Limit: kiosk.TimeLimit{OnTheSpot: true}, Received: []string{"中文、数字0123456789、生僻字𠮷"},
		QRText: "打印测试 " + now.Format(time.RFC3339),
	}
	return s.noted(ctx, Print(ctx, cfg, r))
}

// PrinterLast is how the last print went, kept for the district's monitor.
type PrinterLast struct {
	OK      bool      `json:"ok"`
	At      time.Time `json:"at"`
	Problem string    `json:"problem,omitempty"` // the printer's own words: no personal data
}

// noted keeps the outcome of a print (SettingPrinterLast) and returns err.
func (s *Service) noted(ctx context.Context, err error) error {
	last := PrinterLast{OK: err == nil, At: time.Now().UTC().Truncate(time.Second)}
	if err != nil {
		last.Problem = kiosk.ErrorMessage(err)
	}
	data, _ := json.Marshal(last)
	s.Settings.Set(ctx, kiosk.SettingPrinterLast, string(data))
	return err
}

// PrinterState is the printer for the heartbeat: its kind and paper, and how
// the last print went ("ok", or what went wrong, and when).
func (s *Service) PrinterState(ctx context.Context) string {
	cfg, err := s.PrinterConfig(ctx)
	if err != nil {
		return "not set up: " + kiosk.ErrorMessage(err)
	}
	state := cfg.Kind + " " + cfg.Paper
	raw, _ := s.Settings.Get(ctx, kiosk.SettingPrinterLast)
	var last PrinterLast
	if json.Unmarshal([]byte(raw), &last) != nil {
		return state + ", nothing printed yet"
	}
	at := last.At.In(kiosk.ChinaTime).Format("01-02 15:04")
	if last.OK {
		return state + ", last print ok at " + at
	}
	return state + ", last print failed at " + at + ": " + last.Problem
}
