package kiosk_test

import (
	"strings"
	"testing"

	kiosk "github.com/keqiao/villagekiosk"
)

// goodDraft is a complete draft for the first-time social security card,
// which has a choice field and a 容缺 material.
func goodDraft() *kiosk.Draft {
	return &kiosk.Draft{
		Matter:    "3306210001-01",
		Applicant: kiosk.Applicant{Name: "𠮷野 家", IDNumber: "33062119800101001４", Phone: "138 0013 8000"},
		Fields:    map[string]string{"bank": "中国农业银行", "mail_address": "  柯桥区平水镇某村12号 "},
		Materials: []kiosk.MaterialInput{
			{Name: "居民身份证", Received: true, Attachments: []kiosk.Attachment{{SHA256: "ab", Name: "id.jpg", MIME: "image/jpeg", Size: 300 << 10}}},
			{Name: "近期免冠一寸照片", Received: false},
		},
		Consent: true,
	}
}

func TestCheck_OK(t *testing.T) {
	c := mustSmall(t)
	d := goodDraft()
	main, sub, errs := c.Check(d, today, kiosk.DefaultLimits)
	if errs != nil {
		t.Fatalf("got %v, want no errors", errs)
	}
	if main.Code != "3306210001" || sub.Name != "社会保障卡首次申领" {
		t.Fatalf("got %s %s", main.Code, sub.Name)
	}
	if d.Applicant.IDNumber != "330621198001010014" || d.Applicant.Phone != "13800138000" || d.Applicant.Name != "𠮷野 家" {
		t.Fatalf("not normalised: %+v", d.Applicant)
	}
	if d.Fields["mail_address"] != "柯桥区平水镇某村12号" {
		t.Fatalf("field not trimmed: %q", d.Fields["mail_address"])
	}
}

// TestCheck_Errors covers every kind of bad input the agent or a script can
// give; each error names its field so the UI shows it next to that field.
func TestCheck_Errors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(d *kiosk.Draft)
		field  string
		want   string
	}{
		{"ErrUnknownMatter", func(d *kiosk.Draft) { d.Matter = "9999" }, "matter", "不在当前事项目录中"},
		{"ErrEmptyName", func(d *kiosk.Draft) { d.Applicant.Name = "" }, "applicant.name", "请填写申请人姓名"},
		{"ErrWhitespaceName", func(d *kiosk.Draft) { d.Applicant.Name = " \u3000 " }, "applicant.name", "请填写申请人姓名"},
		{"ErrLongName", func(d *kiosk.Draft) { d.Applicant.Name = strings.Repeat("王", 41) }, "applicant.name", "姓名过长"},
		{"ErrCheckCharacter", func(d *kiosk.Draft) { d.Applicant.IDNumber = "330621198001010015" }, "applicant.id_number", "校验位不对"},
		{"ErrFeb30", func(d *kiosk.Draft) { d.Applicant.IDNumber = "330603199002300015" }, "applicant.id_number", "不是真实的日期"},
		{"Err17Digits", func(d *kiosk.Draft) { d.Applicant.IDNumber = "33062119800101001" }, "applicant.id_number", "现在是17位"},
		{"ErrPhoneLandline", func(d *kiosk.Draft) { d.Applicant.Phone = "0575-84123456" }, "applicant.phone", "11位大陆手机号码"},
		{"ErrPhoneHongKong", func(d *kiosk.Draft) { d.Applicant.Phone = "+852 91234567" }, "applicant.phone", "11位大陆手机号码"},
		{"ErrRequiredField", func(d *kiosk.Draft) { delete(d.Fields, "bank") }, "fields.bank", "请填写“发卡银行”"},
		{"ErrChoice", func(d *kiosk.Draft) { d.Fields["bank"] = "花旗银行" }, "fields.bank", "请从以下选项中选择：中国工商银行、中国农业银行"},
		{"ErrUnknownField", func(d *kiosk.Draft) { d.Fields["hobby"] = "x" }, "fields.hobby", "不是这个事项表单中的项目"},
		{"ErrMissingRequiredMaterial", func(d *kiosk.Draft) { d.Materials[0].Received = false; d.Materials[0].Attachments = nil }, "materials.居民身份证", "不能容缺"},
		{"ErrMaterialMissingEntirely", func(d *kiosk.Draft) { d.Materials = d.Materials[1:] }, "materials.居民身份证", "未收到"},
		{"ErrUnknownMaterial", func(d *kiosk.Draft) {
			d.Materials = append(d.Materials, kiosk.MaterialInput{Name: "结婚证", Received: true})
		}, "materials.结婚证", "不是这个事项的申请材料"},
		{"ErrAttachmentTooLarge", func(d *kiosk.Draft) { d.Materials[0].Attachments[0].Size = 11 << 20 }, "materials.居民身份证", "超过单个文件10.0 MB的上限"},
		{"ErrAttachmentsTotal", func(d *kiosk.Draft) {
			for i := 0; i < 6; i++ {
				d.Materials[0].Attachments = append(d.Materials[0].Attachments, kiosk.Attachment{Name: "p.jpg", Size: 9 << 20})
			}
		}, "materials", "超过每件50.0 MB的上限"},
		{"ErrAttachmentNotReceived", func(d *kiosk.Draft) { d.Materials[1].Attachments = []kiosk.Attachment{{Name: "a.jpg", Size: 1}} }, "materials.近期免冠一寸照片", "没有勾选"},
		{"ErrNoConsent", func(d *kiosk.Draft) { d.Consent = false }, "consent", "确认申请人同意"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := goodDraft()
			tc.mutate(d)
			_, _, errs := mustSmall(t).Check(d, today, kiosk.DefaultLimits)
			if got := errs.For(tc.field); !strings.Contains(got, tc.want) {
				t.Fatalf("got %v, want %s: …%s…", errs, tc.field, tc.want)
			}
		})
	}
}

// The 容缺 material may be missing: it is recorded as owed, not an error.
func TestCheck_DeferrableMayBeMissing(t *testing.T) {
	d := goodDraft()
	d.Materials = d.Materials[:1]
	if _, _, errs := mustSmall(t).Check(d, today, kiosk.DefaultLimits); errs != nil {
		t.Fatalf("got %v", errs)
	}
}

func TestCheckField_Kinds(t *testing.T) {
	c := mustSmall(t)
	d := &kiosk.Draft{
		Matter:    "3306211136-01",
		Applicant: goodDraft().Applicant,
		Materials: []kiosk.MaterialInput{{Name: "居民身份证", Received: true}},
		Consent:   true,
	}
	for _, tc := range []struct {
		field, value, want, err string
	}{
		{"start_date", "2026年3月1日", "2026-03-01", ""},
		{"start_date", "2026/3/1", "2026-03-01", ""},
		{"start_date", "2026-02-30", "", "不是真实的日期"},
		{"start_date", "三月一日", "", "请按“年-月-日”填写"},
		{"account", "6228 4800 1234 5678 901", "6228480012345678901", ""},
		{"account", "6228-48", "", "12到19位数字"},
	} {
		d.Fields = map[string]string{"level": "300元", "start_date": "2026-01-01"}
		d.Fields[tc.field] = tc.value
		_, _, errs := c.Check(d, today, kiosk.DefaultLimits)
		if tc.err == "" {
			if errs != nil || d.Fields[tc.field] != tc.want {
				t.Errorf("%s=%q: got %v / %q, want %q", tc.field, tc.value, errs, d.Fields[tc.field], tc.want)
			}
		} else if !strings.Contains(errs.For("fields."+tc.field), tc.err) {
			t.Errorf("%s=%q: got %v, want %q", tc.field, tc.value, errs, tc.err)
		}
	}
}
