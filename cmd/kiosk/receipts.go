package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/seal"
	"github.com/keqiao/villagekiosk/receipt"
	"github.com/keqiao/villagekiosk/store"
)

func runReceipt(ctx context.Context, args []string, stdout, _ io.Writer) error {
	f := newFlags("receipt")
	out := f.String("out", "", "write the receipt to FILE.png or FILE.pdf")
	print := f.Bool("print", false, "send it to the configured printer")
	reprint := f.Bool("copy", false, "mark it as a reprint (补打)")
	agent := f.String("agent", "", "the agent printing (for the audit log)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (*out == "" && !*print) {
		return fmt.Errorf("receipt needs RECEIPT-NO and --out FILE.png|FILE.pdf or --print\n\n%s", usage)
	}
	s, err := openServices(ctx, f)
	if err != nil {
		return err
	}
	defer s.Close()
	if *out != "" {
		r, err := s.receipts.Build(ctx, pos[0], *reprint)
		if err != nil {
			return err
		}
		path, err := receipt.SaveFile(r, *out)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	if *print {
		var who *kiosk.Agent
		if *agent != "" {
			if who, err = s.agentByName(ctx, *agent); err != nil {
				return err
			}
		}
		if err := s.receipts.Print(ctx, pos[0], *reprint, who); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "printed")
	}
	return nil
}

func runVerify(ctx context.Context, args []string, stdout, _ io.Writer) error {
	f := newFlags("verify")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("verify needs the scanned TEXT (the URL or token from the QR code)\n\n%s", usage)
	}
	s, err := openServices(ctx, f)
	if err != nil {
		return err
	}
	defer s.Close()
	keys := receipt.Keyring{}
	point, _ := s.settings.Point(ctx)
	keys.Add(s.key.Public().(ed25519.PublicKey), "this kiosk "+point.Code)
	tok, who, err := receipt.Verify(pos[0], keys)
	if err != nil {
		return fmt.Errorf("NOT a genuine receipt: %v", err)
	}
	fmt.Fprintf(stdout, "genuine receipt, signed by %s (key %x)\nreceipt number: %s\nmatter: %s\nissued: %s\ncontent hash: %x\n",
		who.Name, tok.KeyID, tok.ReceiptNo, tok.Matter, tok.IssuedAt.In(kiosk.ChinaTime).Format("2006-01-02 15:04:05"), tok.ContentHash)
	return nil
}

func runPrinter(ctx context.Context, args []string, stdout, _ io.Writer) error {
	f := newFlags("printer")
	kind := f.String("kind", "", "escpos-usb, escpos-tcp, cups or file")
	target := f.String("target", "", "device (/dev/usb/lp0), host:port, CUPS queue, or folder")
	paper := f.String("paper", "", "58 or 80 (thermal), A4 or A5 (CUPS), png or pdf (file)")
	s, pos, err := f.open(ctx, args)
	if err != nil {
		return err
	}
	defer s.Close()
	switch {
	case len(pos) == 1 && pos[0] == "set":
		c := receipt.Config{Kind: *kind, Target: *target, Paper: *paper}
		if err := c.Validate(); err != nil {
			return err
		}
		data, _ := json.Marshal(c)
		if err := s.settings.Set(ctx, kiosk.SettingPrinter, string(data)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "printer set: %s %s %s\n", c.Kind, c.Target, c.Paper)
		return nil
	case len(pos) == 1 && pos[0] == "show":
		c, err := s.receipts.PrinterConfig(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %s %s\n", c.Kind, c.Target, c.Paper)
		return nil
	case len(pos) == 1 && pos[0] == "test":
		if err := s.receipts.PrintTest(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "test page printed")
		return nil
	}
	return fmt.Errorf("printer: use `printer set --kind K --target T --paper P`, `printer show` or `printer test`\n\n%s", usage)
}

func runSettings(ctx context.Context, args []string, stdout, _ io.Writer) error {
	f := newFlags("settings")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	keys := map[string]string{"district-url": kiosk.SettingDistrictURL, "signature-line": kiosk.SettingSignature,
		"seal-key": kiosk.SettingSealKey, "sealed-keep-days": kiosk.SettingSealedKeepDays, "retention-days": kiosk.SettingRetentionDays}
	if len(pos) != 3 || pos[0] != "set" || keys[pos[1]] == "" {
		return fmt.Errorf("settings: use `settings set NAME VALUE` with NAME one of district-url, signature-line, seal-key, sealed-keep-days, retention-days\n\n%s", usage)
	}
	value := strings.TrimSpace(pos[2])
	if err := checkSetting(pos[1], value); err != nil {
		return err
	}
	s, err := openServices(ctx, f)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.settings.Set(ctx, keys[pos[1]], value); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s set\n", pos[1])
	return nil
}

// checkSetting refuses a value the kiosk could not use, saying what is wanted.
func checkSetting(name, value string) error {
	switch name {
	case "district-url":
		return checkDistrictURL(value)
	case "signature-line":
		if value != "true" && value != "false" {
			return fmt.Errorf("signature-line must be true or false (got %q)", value)
		}
	case "seal-key":
		// The district's public key, from `districtd seal-key`, for a kiosk
		// installed where there is no network yet; enrolment sets it too.
		if _, err := seal.Decode(value); err != nil {
			return fmt.Errorf("seal-key must be the district's key as `districtd seal-key` prints it: %v", err)
		}
	case "sealed-keep-days":
		_, err := store.ParseDays(kiosk.SettingSealedKeepDays, value)
		return err
	case "retention-days":
		_, err := store.ParseDays(kiosk.SettingRetentionDays, value)
		return err
	}
	return nil
}
