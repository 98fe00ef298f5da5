package receipt

import (
	"context"
	"errors"
	"fmt"
	"image/png"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
)

// Printer kinds, as chosen in settings.
const (
	KindUSB  = "escpos-usb" // ESC/POS over a USB printer device file, e.g. /dev/usb/lp0
	KindTCP  = "escpos-tcp" // ESC/POS over the network, port 9100
	KindCUPS = "cups"       // a system printer, as a PDF through lp
	KindFile = "file"       // a PNG or PDF file in a folder
)

// Config chooses the printer.
type Config struct {
	Kind   string `json:"kind"`
	Target string `json:"target"` // device path, host:port, CUPS queue (empty for the default), or folder
	Paper  string `json:"paper"`  // "58", "80" for thermal; "A4", "A5" for CUPS; "png" or "pdf" for files
}

// Validate checks a configuration before it is saved.
func (c Config) Validate() error {
	switch c.Kind {
	case KindUSB, KindTCP:
		if c.Target == "" {
			return kiosk.Errorf(kiosk.EInvalid, "请填写打印机的设备文件（如 /dev/usb/lp0）或网络地址（如 192.168.1.50:9100）")
		}
		if c.Paper != "58" && c.Paper != "80" {
			return kiosk.Errorf(kiosk.EInvalid, "热敏纸宽度只能是58或80（毫米）")
		}
	case KindCUPS:
		if c.Paper != "A4" && c.Paper != "A5" {
			return kiosk.Errorf(kiosk.EInvalid, "系统打印机的纸张只能是A4或A5")
		}
	case KindFile:
		if c.Target == "" || (c.Paper != "png" && c.Paper != "pdf") {
			return kiosk.Errorf(kiosk.EInvalid, "请填写保存回执的文件夹，格式为png或pdf")
		}
	default:
		return kiosk.Errorf(kiosk.EInvalid, "未知的打印方式 %q（escpos-usb、escpos-tcp、cups、file）", c.Kind)
	}
	return nil
}

func (c Config) width() int {
	if c.Paper == "80" {
		return Width80mm
	}
	return Width58mm
}

// Print sends a receipt to the configured printer. Its errors say in plain
// Chinese what is wrong with the printer; the submission itself is saved
// already and the receipt can be printed again.
func Print(ctx context.Context, c Config, r *Receipt) error {
	if err := c.Validate(); err != nil {
		return err
	}
	switch c.Kind {
	case KindUSB, KindTCP:
		img, err := Render(r, c.width())
		if err != nil {
			return err
		}
		data := EncodeESCPOS(img)
		if c.Kind == KindUSB {
			return writeDevice(ctx, c.Target, data)
		}
		return writeTCP(ctx, c.Target, data)
	case KindCUPS:
		return printCUPS(ctx, c, r)
	default:
		if err := os.MkdirAll(c.Target, 0o700); err != nil {
			return kiosk.Errorf(kiosk.EUnavailable, "无法创建回执文件夹 %s：%v", c.Target, err)
		}
		_, err := SaveFile(r, filepath.Join(c.Target, fileName(r, c.Paper)))
		return err
	}
}

func fileName(r *Receipt, ext string) string {
	name := "回执-" + r.ReceiptNo
	if r.Copy {
		name += "-补打-" + time.Now().Format("150405")
	}
	return name + "." + ext
}

// SaveFile writes the receipt as PNG (58 mm layout at double resolution, for
// screens and office printers) or PDF, chosen by the file name's extension.
func SaveFile(r *Receipt, path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		img, err := Render(r, Width58mm*2)
		if err != nil {
			return "", err
		}
		f, err := os.Create(path)
		if err != nil {
			return "", kiosk.Errorf(kiosk.EUnavailable, "无法写入回执文件 %s：%v", path, err)
		}
		if err := png.Encode(f, img); err != nil {
			f.Close()
			return "", fmt.Errorf("write %s: %w", path, err)
		}
		return path, f.Close()
	case ".pdf":
		return path, writePDF(r, "A5", path)
	}
	return "", kiosk.Errorf(kiosk.EInvalid, "回执文件只能是 .png 或 .pdf：%s", path)
}

// printerTimeout bounds a print: a printer out of paper often just stops
// reading, and the agent must hear about it rather than wait forever.
const printerTimeout = 15 * time.Second

func writeDevice(ctx context.Context, path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.ENXIO) {
			return offline(fmt.Sprintf("找不到打印机 %s：请检查USB线是否插好、打印机是否开机", path), err)
		}
		if errors.Is(err, fs.ErrPermission) {
			return offline(fmt.Sprintf("没有权限使用打印机 %s：请技术人员把本机用户加入 lp 组", path), err)
		}
		return offline("打印机无法使用", err)
	}
	defer f.Close()
	return withTimeout(ctx, func() error { _, err := f.Write(data); return err }, func() { f.Close() })
}

// Real-time status request (DLE EOT 4): the paper roll sensor. Bits 5 and 6
// set mean the paper has run out.
var statusPaper = []byte{0x10, 0x04, 0x04}

func writeTCP(ctx context.Context, addr string, data []byte) error {
	if !strings.Contains(addr, ":") {
		addr += ":9100"
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return offline(fmt.Sprintf("连不上打印机 %s：请检查打印机是否开机、网线是否插好", addr), err)
	}
	defer conn.Close()
	// Ask about the paper first; printers that do not answer are printed to
	// anyway, as most cheap ones only answer this when they have a problem.
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write(statusPaper); err == nil {
		var st [1]byte
		if n, _ := conn.Read(st[:]); n == 1 && st[0]&0x60 != 0 {
			return kiosk.Errorf(kiosk.EUnavailable, "打印机缺纸：请装好热敏纸后再打印")
		}
	}
	conn.SetDeadline(time.Now().Add(printerTimeout))
	if _, err := conn.Write(data); err != nil {
		return offline("打印中断：打印机可能缺纸、卡纸或断电", err)
	}
	return nil
}

func withTimeout(ctx context.Context, work func() error, abort func()) error {
	done := make(chan error, 1)
	go func() { done <- work() }()
	select {
	case err := <-done:
		if err != nil {
			return offline("打印中断：打印机可能缺纸、卡纸或断电", err)
		}
		return nil
	case <-time.After(printerTimeout):
		abort()
		return kiosk.Errorf(kiosk.EUnavailable, "打印机没有响应：请检查是否缺纸、卡纸或盖子没盖好")
	case <-ctx.Done():
		abort()
		return ctx.Err()
	}
}

func offline(msg string, err error) error {
	return kiosk.Errorf(kiosk.EUnavailable, "%s（%v）。办件已经保存，可以稍后在“办件查询”里补打回执。", msg, err)
}
