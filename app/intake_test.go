package app

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/store"
)

// tapStart goes from home to 社会保障卡首次申领 and taps 开始办理, as the
// agent does.
func tapStart(t *testing.T, w fyne.Window) {
	t.Helper()
	test.Tap(findCard(t, w, "社会保障卡"))
	test.Tap(findCard(t, w, "社会保障卡首次申领"))
	test.Tap(findButton(t, w, "开始办理"))
}

func currentIntake(t *testing.T, u *UI) *intakeScreen {
	t.Helper()
	in, ok := u.stack[len(u.stack)-1].(*intakeScreen)
	if !ok {
		t.Fatalf("not on an intake screen but %T", u.stack[len(u.stack)-1])
	}
	return in
}

// TestFirstStart sets up a new kiosk on the screen: service point and the
// first agent, with the mistakes a technician makes on the way.
func TestFirstStart(t *testing.T) {
	k := newTestKiosk(t, false)
	u, w := openUI(t, k, kioskSize, Options{})
	s := u.setupView
	if s == nil {
		t.Fatal("a new kiosk does not show set-up")
	}
	assertScreen(t, "setup.png", w)
	test.Type(s.code, "33")
	test.Type(s.name, "王化村便民服务中心")
	test.Type(s.agent, "王芳")
	test.Type(s.p1, "2468")
	test.Type(s.p2, "2469")
	test.Tap(findButton(t, w, "完成设置"))
	if !s.errPIN.Visible() || !strings.Contains(s.errPIN.Text, "两次输入的密码不一样") {
		t.Fatalf("PIN mismatch: %q", s.errPIN.Text)
	}
	s.p2.SetText("2468")
	test.Tap(findButton(t, w, "完成设置"))
	if !strings.Contains(s.errCode.Text, "服务点编码应为4到20位") {
		t.Fatalf("short code: %q", s.errCode.Text)
	}
	s.code.SetText("330603101201")
	test.Tap(findButton(t, w, "完成设置"))
	if u.agent == nil || !u.agent.Admin {
		t.Fatalf("not signed in as an admin after set-up; screen:\n%s", screenText(w))
	}
}

func TestLockScreen(t *testing.T) {
	k := newTestKiosk(t, true)
	k.svc.Agents.CreateAgent(context.Background(), "李娟", "1357", false)
	u, w := openUI(t, k, kioskSize, Options{})
	assertScreen(t, "lock.png", w)
	test.Tap(findCard(t, w, "李娟"))
	for _, key := range []string{"1", "1", "1", "1", "确定"} {
		test.Tap(findButton(t, w, key))
	}
	if u.agent != nil || !strings.Contains(u.lockView.errl.Text, "密码不对，还可以再试4次") {
		t.Fatalf("wrong PIN: agent %v, message %q", u.agent, u.lockView.errl.Text)
	}
	assertScreen(t, "lock-wrong-pin.png", w)
	for _, key := range []string{"1", "3", "5", "7", "确定"} {
		test.Tap(findButton(t, w, key))
	}
	if u.agent == nil || u.agent.Name != "李娟" || u.agent.Admin {
		t.Fatalf("got %+v", u.agent)
	}
	if u.audit.Visible() {
		t.Fatal("the audit log button is shown to a non-admin agent")
	}
}

// TestIntakeFlow takes a matter with a choice field and a 容缺 material from
// the catalog to the saved receipt on the screen, as an agent would, and
// checks the saved submission holds what was entered.
func TestIntakeFlow(t *testing.T) {
	k := newTestKiosk(t, true)
	scans := t.TempDir()
	u, w := openUI(t, k, kioskSize, Options{ScanFolder: scans})
	signIn(t, u, w)

	tapStart(t, w)
	in := currentIntake(t, u)
	assertScreen(t, "intake-1-applicant.png", w)

	// Nothing filled in: every required field says what is missing.
	test.Tap(findButton(t, w, "下一步"))
	if in.step != stepApplicant {
		t.Fatal("moved on with empty required fields")
	}
	for path, want := range map[string]string{
		"applicant.name":      "请填写申请人姓名",
		"applicant.id_number": "请填写申请人的身份证号",
		"applicant.phone":     "请填写申请人的手机号",
		"fields.bank":         "请填写“发卡银行”",
	} {
		if l := in.errs[path]; !l.Visible() || !strings.Contains(l.Text, want) {
			t.Errorf("%s: shows %q, want %q", path, l.Text, want)
		}
	}
	assertScreen(t, "intake-1-errors.png", w)

	test.Type(in.name, "𠮷野")
	test.Type(in.idNumber, "11010519491231002x") // lower-case x, as typed
	test.Type(in.phone, "138 0013 8000")
	in.setters["bank"]("中国农业银行")
	if in.errs["applicant.name"].Visible() {
		t.Error("the name error stays after typing a name")
	}
	// A wrong check character is caught before leaving the step.
	in.idNumber.SetText("110105194912310021")
	test.Tap(findButton(t, w, "下一步"))
	if !strings.Contains(in.errs["applicant.id_number"].Text, "校验位不对") {
		t.Fatalf("check character: %q", in.errs["applicant.id_number"].Text)
	}
	in.idNumber.SetText("11010519491231002x")
	test.Tap(findButton(t, w, "下一步"))
	if in.step != stepMaterials {
		_, _, errs := u.cat.Check(in.draft(), clock, kiosk.DefaultLimits)
		t.Fatalf("still on step %d; errors: %v", in.step, errs)
	}

	// Materials: a document that is not a scan is refused; the ID card scan
	// is taken from the scanner folder; the photo is left owed (容缺).
	idCard, photo := in.materials[0], in.materials[1]
	notes := filepath.Join(scans, "备注.txt")
	os.WriteFile(notes, []byte("not a scan"), 0o644)
	in.addFile(idCard, notes)
	if !strings.Contains(idCard.errl.Text, "不是图片或PDF文件") || len(idCard.files) != 0 {
		t.Fatalf("a text file was taken: %q", idCard.errl.Text)
	}
	scan := writeJPEG(t, scans, "扫描0001.jpg")
	in.addFile(idCard, scan)
	if len(idCard.files) != 1 || !idCard.received.Checked || idCard.errl.Visible() {
		t.Fatalf("scan not attached: %+v", idCard.files)
	}
	if !photo.owedNote.Visible() || !strings.Contains(photo.owedNote.Text, "容缺") {
		t.Fatal("the unticked 容缺 material does not say it will be owed")
	}
	assertScreen(t, "intake-2-materials.png", w)
	test.Tap(findButton(t, w, "下一步"))

	// Consent is required.
	if in.step != stepConsent {
		t.Fatalf("on step %d", in.step)
	}
	test.Tap(findButton(t, w, "下一步"))
	if !strings.Contains(in.errs["consent"].Text, "确认申请人同意") {
		t.Fatal("moved on without consent")
	}
	test.Tap(in.consent)
	assertScreen(t, "intake-3-consent.png", w)
	test.Tap(findButton(t, w, "下一步"))

	if in.step != stepReview {
		_, _, errs := u.cat.Check(in.draft(), clock, kiosk.DefaultLimits)
		t.Fatalf("on step %d, consent %v, errors %v", in.step, in.consent.Checked, errs)
	}
	review := screenText(w)
	for _, want := range []string{"𠮷野", "11010519491231002X", "13800138000", "中国农业银行", "容缺，需补交", "✓ 已收到，附件1个"} {
		if !strings.Contains(review, want) {
			t.Errorf("review lacks %q", want)
		}
	}
	assertScreen(t, "intake-4-review.png", w)

	test.Tap(in.submit)
	test.Tap(in.submit) // a second tap: no second submission
	if in.step != stepSaved {
		t.Fatalf("not saved; screen:\n%s", screenText(w))
	}
	assertScreen(t, "intake-5-saved.png", w)

	list, err := k.svc.Submissions.List(context.Background(), kiosk.SubmissionFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("got %d submissions (%v), want 1", len(list), err)
	}
	// What the kiosk shows: the list's fields only.
	if got, _ := k.svc.Submissions.Get(context.Background(), list[0].ID); got.Applicant != (kiosk.Applicant{Name: "𠮷野"}) || got.IDMasked != "110105********002X" {
		t.Fatalf("the kiosk keeps %+v %s", got.Applicant, got.IDMasked)
	}
	// What was entered, as the district opens it.
	sub := k.opened(t, list[0].ID)
	if sub.ReceiptNo != "330603101201-20261128-0001" || sub.Applicant != (kiosk.Applicant{Name: "𠮷野", IDNumber: "11010519491231002X", Phone: "13800138000"}) ||
		sub.Agent != "王芳" || sub.Status != kiosk.StatusPending || sub.Matter != "3306210001-01" {
		t.Fatalf("saved %+v", sub)
	}
	if len(sub.Fields) != 1 || sub.Fields[0] != (kiosk.FieldValue{ID: "bank", Label: "发卡银行", Value: "中国农业银行"}) {
		t.Fatalf("fields %+v", sub.Fields)
	}
	if m := sub.Materials; !m[0].Received || len(m[0].Attachments) != 1 || m[0].Attachments[0].Name != "扫描0001.jpg" || !m[1].Owed {
		t.Fatalf("materials %+v", m)
	}
	if !strings.Contains(screenText(w), "需补交：近期免冠一寸照片") || !strings.Contains(screenText(w), "回执已打印") {
		t.Fatal("the saved screen does not say what is owed and that the receipt printed")
	}
	if _, err := os.Stat(filepath.Join(k.receipts, "回执-"+sub.ReceiptNo+".png")); err != nil {
		t.Fatalf("the receipt was not printed on saving: %v", err)
	}

	// 办件查询 lists it; opening it is audited.
	test.Tap(findButton(t, w, "办件查询"))
	assertScreen(t, "submissions.png", w)
	test.Tap(findCard(t, w, "社会保障卡首次申领"))
	if !strings.Contains(screenText(w), "110105********002X") || strings.Contains(screenText(w), "11010519491231002X") {
		t.Fatal("the detail does not mask the ID number")
	}
	assertScreen(t, "submission.png", w)
	entries, _ := k.svc.Audit.List(context.Background(), 10)
	if entries[0].Action != kiosk.ActionView || entries[0].Subject != sub.ReceiptNo || entries[1].Action != kiosk.ActionPrint {
		t.Fatalf("viewing and printing were not audited: %+v", entries[:2])
	}

	// The receipt preview, and a reprint marked as a copy.
	test.Tap(findButton(t, w, "查看和补打回执"))
	assertScreen(t, "receipt.png", w)
	test.Tap(findButton(t, w, "补打回执"))
	copies, _ := filepath.Glob(filepath.Join(k.receipts, "回执-"+sub.ReceiptNo+"-补打-*.png"))
	entries, _ = k.svc.Audit.List(context.Background(), 1)
	if len(copies) != 1 || entries[0].Action != kiosk.ActionPrint || !strings.Contains(entries[0].Detail, "reprint") {
		t.Fatalf("reprint: files %v, audit %+v", copies, entries[0])
	}

	// Walking away: after the idle time the kiosk locks and nothing personal
	// stays on screen.
	now := clock.Add(2 * time.Minute)
	u.opts.Now = func() time.Time { return now }
	u.CheckIdle()
	if u.agent == nil {
		t.Fatal("locked before the idle time")
	}
	now = now.Add(3 * time.Minute)
	u.CheckIdle()
	if u.agent != nil || u.lockView == nil {
		t.Fatal("not locked after the idle time")
	}
	for _, personal := range []string{"𠮷野", "002X", "社会保障卡首次申领"} {
		if strings.Contains(screenText(w), personal) {
			t.Errorf("%q is still on screen after locking", personal)
		}
	}
}

// TestSubmissionsScreen covers the list's search and filters on the screen.
func TestSubmissionsScreen(t *testing.T) {
	k := newTestKiosk(t, true)
	ctx := context.Background()
	agent, _ := k.svc.Agents.SignIn(ctx, "王芳", "2468")
	for _, name := range []string{"张三", "李四"} {
		d := &kiosk.Draft{Matter: "3306210001-02", Applicant: kiosk.Applicant{Name: name, IDNumber: "11010519491231002X", Phone: "13800138000"},
			Fields: map[string]string{"reason": "遗失"}, Materials: []kiosk.MaterialInput{{Name: "居民身份证", Received: true}}, Consent: true}
		if _, err := k.svc.Submissions.Save(ctx, d, agent); err != nil {
			t.Fatal(err)
		}
	}
	u, w := openUI(t, k, kioskSize, Options{})
	signIn(t, u, w)
	u.openSubmissions()
	s := u.stack[len(u.stack)-1].(*submissionsScreen)
	if !strings.Contains(s.count.Text, "共 2 件") {
		t.Fatalf("got %q", s.count.Text)
	}
	test.Type(s.query, "李")
	if !strings.Contains(s.count.Text, "共 1 件") || !strings.Contains(screenText(w), "李四") || strings.Contains(screenText(w), "张三") {
		t.Fatalf("search 李: %s", s.count.Text)
	}
	s.query.SetText("")
	s.status.SetSelected("已办结")
	if s.count.Text != "没有符合条件的办件" {
		t.Fatalf("filter done: %q", s.count.Text)
	}
	s.status.SetSelected("待上传")
	s.period.SetSelected("今天")
	if !strings.Contains(s.count.Text, "共 2 件") {
		t.Fatalf("pending today: %q", s.count.Text)
	}
}

func writeJPEG(t *testing.T, dir, name string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 320; x++ {
			img.Set(x, y, color.RGBA{uint8(200 - y/2), uint8(210 - x/4), 230, 255})
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, nil)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPrinterSettings chooses a printer on the settings screen; a bad choice
// is refused next to its field, and the test page goes to the printer.
func TestPrinterSettings(t *testing.T) {
	u, w := newTestUI(t, kioskSize)
	test.Tap(findButton(t, w, "设置"))
	s := u.stack[len(u.stack)-1].(*settingsScreen)
	s.kind.SetSelected("热敏小票打印机（网络）")
	test.Tap(findButton(t, w, "保存"))
	if !strings.Contains(s.errl.Text, "请填写打印机") {
		t.Fatalf("empty target: %q", s.errl.Text)
	}
	folder := t.TempDir()
	s.kind.SetSelected("保存为文件")
	s.target.SetText(folder)
	test.Tap(findButton(t, w, "打印测试页"))
	if !strings.Contains(s.status.Text, "测试页已发送") {
		t.Fatalf("test page: %q", s.status.Text)
	}
	if files, _ := filepath.Glob(filepath.Join(folder, "*.png")); len(files) != 1 {
		t.Fatalf("test page files: %v", files)
	}
	s.target.SetText("/tmp/kiosk-receipts")
	assertScreen(t, "settings.png", w)
}

// TestSupplement: a matter the district returned for more material gets it
// added on the kiosk and is queued again under the same receipt number.
// saveOne saves 张三's application for a social security card (the photo
// owed) as 王芳.
func saveOne(t *testing.T, k *testKiosk) *kiosk.Submission {
	t.Helper()
	ctx := context.Background()
	agent, _ := k.svc.Agents.SignIn(ctx, "王芳", "2468")
	sub, err := k.svc.Submissions.Save(ctx, &kiosk.Draft{Matter: "3306210001-01",
		Applicant: kiosk.Applicant{Name: "张三", IDNumber: "11010519491231002X", Phone: "13800138000"},
		Fields:    map[string]string{"bank": "中国农业银行"}, Materials: []kiosk.MaterialInput{{Name: "居民身份证", Received: true}}, Consent: true}, agent)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func TestSupplement(t *testing.T) {
	k := newTestKiosk(t, true)
	ctx := context.Background()
	sub := saveOne(t, k)
	q := store.NewSyncQueue(k.db)
	q.Apply(ctx, "e1", 1, []kiosk.StatusChange{{SubmissionID: sub.ID, Status: kiosk.StatusReturned, Note: "请补交近期免冠一寸照片", At: clock}})

	u, w := openUI(t, k, kioskSize, Options{})
	signIn(t, u, w)
	u.openSubmissions()
	test.Tap(findCard(t, w, "社会保障卡首次申领"))
	if !strings.Contains(screenText(w), "退回补正：请补交近期免冠一寸照片。请通知申请人补交材料。") {
		t.Fatalf("the detail does not say why it was returned:\n%s", screenText(w))
	}
	test.Tap(findButton(t, w, "补交材料"))
	s := u.stack[len(u.stack)-1].(*supplementScreen)
	u.stageInto(s.picks[1], writeJPEG(t, t.TempDir(), "照片.jpg"))
	assertScreen(t, "supplement.png", w)
	test.Tap(findButton(t, w, "重新提交"))
	got, _ := k.svc.Submissions.Get(ctx, sub.ID)
	if got.ReceiptNo != sub.ReceiptNo || got.Revision != 1 || got.Status != kiosk.StatusPending || len(got.Owed()) != 0 ||
		len(got.Materials[1].Attachments) != 1 {
		t.Fatalf("after supplement: %+v", got)
	}
	if waiting, _, _, _ := q.Stats(ctx); waiting != 1 {
		t.Fatalf("outbox: %d waiting", waiting)
	}
}

// TestPurgedSubmission: a matter whose personal data the kiosk removed after
// the retention shows what is left and says why, in the list and the detail,
// and offers no receipt to reprint.
func TestPurgedSubmission(t *testing.T) {
	k := newTestKiosk(t, true)
	ctx := context.Background()
	sub := saveOne(t, k)
	q := store.NewSyncQueue(k.db)
	finished := clock.Add(-100 * 24 * time.Hour)
	q.Sent(ctx, 1, sub.ID, finished)
	q.Apply(ctx, "e1", 1, []kiosk.StatusChange{{SubmissionID: sub.ID, Status: kiosk.StatusDone, At: finished}})
	if n, err := store.NewSubmissionService(k.db).Purge(ctx, clock, store.DefaultRetention); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	u, w := openUI(t, k, kioskSize, Options{})
	signIn(t, u, w)
	u.openSubmissions()
	if !strings.Contains(screenText(w), "（已按规定删除）") || strings.Contains(screenText(w), "张三") {
		t.Fatalf("the list:\n%s", screenText(w))
	}
	test.Tap(findCard(t, w, "社会保障卡首次申领"))
	got := screenText(w)
	if !strings.Contains(got, "从本机删除") || strings.Contains(got, "张三") || strings.Contains(got, "138") || strings.Contains(got, "中国农业银行") {
		t.Fatalf("the detail:\n%s", got)
	}
	if strings.Contains(got, "补打回执") {
		t.Fatal("a purged matter offers a receipt reprint")
	}
	assertScreen(t, "purged.png", w)
}

// TestRestoredSubmission: a matter taken back from the district after the
// kiosk lost its database shows its list fields, status and the district's
// note, says where the rest is, and offers no receipt to reprint.
func TestRestoredSubmission(t *testing.T) {
	k := newTestKiosk(t, true)
	ctx := context.Background()
	restored := kiosk.RestoredSubmission{
		Submission: kiosk.Submission{ID: "0190-restored", ReceiptNo: "330603101201-20261120-0003", Matter: "3306210001-01", MatterName: "社会保障卡首次申领",
			Applicant: kiosk.Applicant{Name: "张三"}, Agent: "王芳", CreatedAt: clock.Add(-8 * 24 * time.Hour),
			Materials: []kiosk.MaterialRecord{{Name: "居民身份证", Required: true, Received: true}, {Name: "近期免冠一寸照片", Owed: true}},
			Status:    kiosk.StatusReturned, DistrictNote: "请补交近期免冠一寸照片"},
		IDMasked: "110105********002X", ReceivedAt: clock.Add(-8 * 24 * time.Hour)}
	if n, err := store.NewSubmissionService(k.db).Restore(ctx, []kiosk.RestoredSubmission{restored}); err != nil || n != 1 {
		t.Fatalf("restore: %d %v", n, err)
	}
	u, w := openUI(t, k, kioskSize, Options{})
	signIn(t, u, w)
	u.openSubmissions()
	test.Tap(findCard(t, w, "社会保障卡首次申领"))
	got := screenText(w)
	if !strings.Contains(got, "从区平台取回") || !strings.Contains(got, "张三") || !strings.Contains(got, "请补交近期免冠一寸照片") {
		t.Fatalf("the detail:\n%s", got)
	}
	if button(w, "查看和补打回执") != nil || button(w, "补交材料") != nil {
		t.Fatal("a restored matter offers a receipt reprint or a supplement")
	}
	assertScreen(t, "restored.png", w)
}

// TestScannerAndPrinterDown: the ID card scan is taken from the scanner
// folder's tiles; the thermal printer is unplugged, so the receipt does not
// print, and the agent is told so while the matter stays saved, ready for
// 打印回执 once the printer is back.
func TestScannerAndPrinterDown(t *testing.T) {
	k := newTestKiosk(t, true)
	ctx := context.Background()
	k.svc.Settings.Set(ctx, kiosk.SettingPrinter, `{"kind":"escpos-usb","target":"/dev/usb/lp9","paper":"58"}`)
	scans := t.TempDir()
	writeJPEG(t, scans, "扫描0007.jpg")
	u, w := openUI(t, k, kioskSize, Options{ScanFolder: scans})
	signIn(t, u, w)
	tapStart(t, w)
	in := currentIntake(t, u)
	test.Type(in.name, "张三")
	test.Type(in.idNumber, "11010519491231002X")
	test.Type(in.phone, "13800138000")
	in.setters["bank"]("中国农业银行")
	test.Tap(findButton(t, w, "下一步"))

	// The materials step tells the agent a scan is waiting, and sees the
	// next one land.
	if !in.scanNote.Visible() || !strings.Contains(in.scanNote.Text, "有 1 份新扫描件") {
		t.Fatalf("scan note: %q", in.scanNote.Text)
	}
	assertScreen(t, "intake-2-scan-waiting.png", w)
	writeJPEG(t, scans, "扫描0008.jpg")
	in.checkScans()
	if !strings.Contains(in.scanNote.Text, "有 2 份新扫描件") {
		t.Fatalf("scan note after a second scan: %q", in.scanNote.Text)
	}
	os.Remove(filepath.Join(scans, "扫描0008.jpg"))
	test.Tap(findButton(t, w, "从扫描仪取"))
	pop := w.Canvas().Overlays().Top()
	if pop == nil {
		t.Fatal("从扫描仪取 opened nothing")
	}
	tapped := false
	for _, o := range test.LaidOutObjects(pop) {
		if c, ok := o.(*card); ok && shows(c.content, "扫描0007.jpg") {
			test.Tap(c)
			tapped = true
			break
		}
	}
	if !tapped || len(in.materials[0].files) != 1 || in.materials[0].files[0].att.Name != "扫描0007.jpg" {
		t.Fatalf("the scan was not taken from the folder's tiles (tile found: %v)", tapped)
	}
	// Taken in sealed; the scanner's copy in the clear is gone.
	if left, _ := os.ReadDir(scans); len(left) != 0 {
		t.Fatalf("the scanner folder still holds %d files", len(left))
	}
	if in.checkScans(); in.scanNote.Visible() {
		t.Fatalf("the scan note stays once every scan is added: %q", in.scanNote.Text)
	}
	test.Tap(findButton(t, w, "下一步"))
	test.Tap(in.consent)
	test.Tap(findButton(t, w, "下一步"))
	test.Tap(in.submit)
	if in.step != stepSaved {
		t.Fatalf("not saved; screen:\n%s", screenText(w))
	}
	if !strings.Contains(screenText(w), "回执没有打印出来") {
		t.Fatalf("the failed print is not told:\n%s", screenText(w))
	}
	list, _ := k.svc.Submissions.List(ctx, kiosk.SubmissionFilter{})
	if len(list) != 1 || button(w, "打印回执") == nil {
		t.Fatalf("after the failed print: %d saved, 打印回执 offered: %v", len(list), button(w, "打印回执") != nil)
	}
	assertScreen(t, "intake-5-not-printed.png", w)
}

// TestNotEnrolled: before the kiosk knows the district's key, 开始办理 says
// so at once instead of letting the agent type a villager's details in vain.
func TestNotEnrolled(t *testing.T) {
	k := newTestKiosk(t, true)
	k.svc.Settings.Set(context.Background(), kiosk.SettingSealKey, "")
	u, w := openUI(t, k, kioskSize, Options{})
	signIn(t, u, w)
	tapStart(t, w)
	if _, ok := u.stack[len(u.stack)-1].(*intakeScreen); ok {
		t.Fatal("the intake opened on a kiosk that cannot save")
	}
	pop := w.Canvas().Overlays().Top()
	said := ""
	if pop != nil {
		for _, o := range test.LaidOutObjects(pop) {
			if l, ok := o.(*widget.Label); ok {
				said += l.Text
			}
		}
	}
	if !strings.Contains(said, "还没有登记到区平台") {
		t.Fatalf("no notice that the kiosk is not enrolled: %q", said)
	}
	assertScreen(t, "not-enrolled.png", w)
}

// TestEnrollScreen: a technician enrols the kiosk on the settings screen;
// a refused code is said under the code, success says where the kiosk is
// now attached and 立即同步 appears.
func TestEnrollScreen(t *testing.T) {
	k := newTestKiosk(t, true)
	k.svc.Settings.Set(context.Background(), kiosk.SettingSealKey, "")
	var got []string
	rounds := 0
	var u *UI
	enroll := func(_ context.Context, base, code, ca string) (string, error) {
		got = append(got, base+" "+code+" "+ca)
		if code != "7KQ3M9X2PA" {
			return "", kiosk.Errorf(kiosk.EInvalid, "登记码不对、已经用过或已经过期：请向区人社局要一个新的登记码")
		}
		fyne.Do(func() { u.EnableSync(func() { rounds++ }) })
		return "已接入区平台：王化村便民服务中心（330603101201），设备编号 dev-1。", nil
	}
	u, w := openUI(t, k, kioskSize, Options{Enroll: enroll})
	u.background = func(f func()) { f() } // the test driver runs fyne.Do in place
	signIn(t, u, w)
	test.Tap(findButton(t, w, "设置"))
	s := u.stack[len(u.stack)-1].(*settingsScreen)
	if !strings.Contains(s.enrollState.Text, "还没有接入区平台") {
		t.Fatalf("state before: %q", s.enrollState.Text)
	}
	entries := map[string]*widget.Entry{}
	for _, o := range test.LaidOutObjects(s.root) {
		if e, ok := o.(*widget.Entry); ok {
			entries[e.PlaceHolder] = e
		}
	}
	test.Type(entries["https://rs.keqiao.example"], "https://rs.keqiao.example")
	test.Type(entries["区里发的10位登记码"], "WRONG")
	waitText := func(l *widget.Label, want string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if strings.Contains(l.Text, want) {
				return
			}
		}
		t.Fatalf("%q never said %q", l.Text, want)
	}
	test.Tap(findButton(t, w, "接入区平台"))
	waitText(s.enrollErr, "登记码不对")
	assertScreen(t, "settings-enroll-refused.png", w)
	entries["区里发的10位登记码"].SetText("7KQ3M9X2PA")
	test.Tap(findButton(t, w, "接入区平台"))
	waitText(s.enrollState, "已接入区平台")
	if len(got) != 2 || got[1] != "https://rs.keqiao.example 7KQ3M9X2PA " || s.enrollErr.Visible() {
		t.Fatalf("enrol calls %q; error shown %v", got, s.enrollErr.Visible())
	}
	test.Tap(findButton(t, w, "立即同步"))
	if rounds != 1 {
		t.Fatal("立即同步 did not appear after enrolment")
	}
	assertScreen(t, "settings-enrolled.png", w)
}
