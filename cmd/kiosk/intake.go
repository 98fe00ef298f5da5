package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	kiosk "github.com/keqiao/villagekiosk"
)

// submitInput is the file `kiosk submit --json` reads: the draft the UI
// collects, with attachment paths instead of staged files, and the agent.
// The format is documented in docs/intake.md.
type submitInput struct {
	Agent     string            `json:"agent"`
	DraftID   string            `json:"draft_id,omitempty"`
	Matter    string            `json:"matter"`
	Applicant kiosk.Applicant   `json:"applicant"`
	Fields    map[string]string `json:"fields"`
	Materials []struct {
		Name        string   `json:"name"`
		Received    bool     `json:"received"`
		Attachments []string `json:"attachments"`
	} `json:"materials"`
	Consent bool `json:"consent"`
}

func runSubmit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("submit")
	file := f.String("json", "", "submission file (docs/intake.md), - for standard input")
	if _, err := f.parse(args); err != nil {
		return err
	}
	if *file == "" {
		return fmt.Errorf("submit needs --json FILE\n\n%s", usage)
	}
	var data []byte
	var err error
	base := "."
	if *file == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(*file)
		base = filepath.Dir(*file)
	}
	if err != nil {
		return fmt.Errorf("read submission: %w", err)
	}
	var in submitInput
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("%s is not a submission in the documented format (docs/intake.md): %v", *file, err)
	}

	s, err := openServices(ctx, f)
	if err != nil {
		return err
	}
	defer s.Close()
	agent, err := s.agentByName(ctx, in.Agent)
	if err != nil {
		return err
	}

	d := &kiosk.Draft{DraftID: in.DraftID, Matter: in.Matter, Applicant: in.Applicant, Fields: in.Fields, Consent: in.Consent}
	var errs kiosk.FieldErrors
	for _, m := range in.Materials {
		mi := kiosk.MaterialInput{Name: m.Name, Received: m.Received}
		for _, p := range m.Attachments {
			if !filepath.IsAbs(p) {
				p = filepath.Join(base, p)
			}
			a, err := s.submissions.Stage(ctx, p)
			if kiosk.ErrorCode(err) == kiosk.EInvalid {
				errs = append(errs, kiosk.FieldError{Field: "materials." + m.Name, Message: kiosk.ErrorMessage(err)})
				continue
			}
			if err != nil {
				return err
			}
			mi.Attachments = append(mi.Attachments, a)
		}
		d.Materials = append(d.Materials, mi)
	}
	if errs != nil {
		return fieldFailure(errs, stderr)
	}
	sub, err := s.submissions.Save(ctx, d, agent)
	var ferrs kiosk.FieldErrors
	if errors.As(err, &ferrs) {
		return fieldFailure(ferrs, stderr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, sub.ReceiptNo)
	return nil
}

// fieldFailure prints one line per field, in the words the UI shows beside
// each field, and fails.
func fieldFailure(errs kiosk.FieldErrors, stderr io.Writer) error {
	for _, e := range errs {
		fmt.Fprintf(stderr, "%s: %s\n", e.Field, e.Message)
	}
	return fmt.Errorf("the submission was not saved: %d field(s) need fixing", len(errs))
}

func runSubmissions(ctx context.Context, args []string, stdout, _ io.Writer) error {
	f := newFlags("submissions")
	asJSON := f.Bool("json", false, "print as JSON")
	status := f.String("status", "", "only this status (pending_upload, received, accepted, in_progress, done, returned, refused)")
	query := f.String("q", "", "name, receipt number, or the last digits of the ID number")
	s, _, err := f.open(ctx, args)
	if err != nil {
		return err
	}
	defer s.Close()
	list, err := s.submissions.List(ctx, kiosk.SubmissionFilter{Status: *status, Query: *query})
	if err != nil {
		return err
	}
	if *asJSON {
		if list == nil {
			list = []kiosk.SubmissionSummary{}
		}
		return printJSON(stdout, list)
	}
	for _, r := range list {
		fmt.Fprintf(stdout, "%s  %s  %s  %s  %s\n", r.ReceiptNo, r.CreatedAt.In(kiosk.ChinaTime).Format("2006-01-02 15:04"), kiosk.StatusLabel(r.Status), r.IDMasked, r.MatterName)
	}
	return nil
}

func runSetup(ctx context.Context, args []string, stdout, _ io.Writer) error {
	f := newFlags("setup")
	code := f.String("point", "", "service point code (e.g. the village's 12-digit area code)")
	name := f.String("point-name", "", "service point name")
	s, _, err := f.open(ctx, args)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.settings.SetPoint(ctx, kiosk.PointInfo{Code: *code, Name: *name}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "service point %s (%s) set\n", strings.TrimSpace(*code), strings.TrimSpace(*name))
	return nil
}

func runAgent(ctx context.Context, args []string, stdout, _ io.Writer) error {
	f := newFlags("agent")
	pin := f.String("pin", "", "4-8 digit PIN")
	admin := f.Bool("admin", false, "may read the audit log and add agents")
	s, pos, err := f.open(ctx, args)
	if err != nil {
		return err
	}
	defer s.Close()
	switch {
	case len(pos) == 2 && pos[0] == "add":
		a, err := s.agents.CreateAgent(ctx, pos[1], *pin, *admin)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "agent %d added\n", a.ID)
		return nil
	case len(pos) == 1 && pos[0] == "list":
		list, err := s.agents.Agents(ctx)
		if err != nil {
			return err
		}
		for _, a := range list {
			fmt.Fprintf(stdout, "%d\t%s\tadmin=%v\n", a.ID, a.Name, a.Admin)
		}
		return nil
	}
	return fmt.Errorf("agent: use `agent add NAME --pin PIN [--admin]` or `agent list`\n\n%s", usage)
}
