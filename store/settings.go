package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/seal"
)

// SettingsService implements kiosk.SettingsService.
type SettingsService struct{ db *DB }

var _ kiosk.SettingsService = (*SettingsService)(nil)

// NewSettingsService returns the settings of db.
func NewSettingsService(db *DB) *SettingsService { return &SettingsService{db: db} }

var pointCodePattern = regexp.MustCompile(`^[0-9A-Za-z]{4,20}$`)

// Point returns the service point, ENotFound before set-up.
func (s *SettingsService) Point(ctx context.Context) (kiosk.PointInfo, error) {
	var p kiosk.PointInfo
	code, err := s.get(ctx, "point_code")
	if err != nil {
		return p, err
	}
	if code == "" {
		return p, kiosk.Errorf(kiosk.ENotFound, "本机还没有设置服务点编码，请先完成设置")
	}
	name, err := s.get(ctx, "point_name")
	return kiosk.PointInfo{Code: code, Name: name}, err
}

// SetPoint sets the service point. The code goes into every receipt number,
// so it must be the point's own: letters and digits, 4-20 characters.
func (s *SettingsService) SetPoint(ctx context.Context, p kiosk.PointInfo) error {
	p.Code, p.Name = strings.TrimSpace(p.Code), strings.TrimSpace(p.Name)
	if !pointCodePattern.MatchString(p.Code) {
		return kiosk.Errorf(kiosk.EInvalid, "服务点编码应为4到20位字母或数字，例如村的12位统计区划代码")
	}
	if p.Name == "" {
		return kiosk.Errorf(kiosk.EInvalid, "请填写服务点名称")
	}
	tx, err := s.db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	defer tx.Rollback()
	for k, v := range map[string]string{"point_code": p.Code, "point_name": p.Name} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v); err != nil {
			return fmt.Errorf("save settings: %w", err)
		}
	}
	return tx.Commit()
}

// Get returns a setting, "" when unset.
func (s *SettingsService) Get(ctx context.Context, key string) (string, error) {
	return s.get(ctx, key)
}

// Set stores a setting.
func (s *SettingsService) Set(ctx context.Context, key, value string) error {
	_, err := s.db.db.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return diskError("save settings", err)
	}
	return nil
}

func (s *SettingsService) get(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read settings: %w", err)
	}
	return v, nil
}

// SetSealKey keeps the district's public key, learnt at enrolment: every
// submission and file saved from now on is sealed for it.
func (s *SettingsService) SetSealKey(ctx context.Context, key *seal.Key) error {
	return s.Set(ctx, kiosk.SettingSealKey, seal.Encode(key))
}
