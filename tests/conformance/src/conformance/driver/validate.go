package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/blang/semver"
	"github.com/hashicorp/go-multierror"
	"github.com/opencontainers/runtime-tools/validate"
	"github.com/xeipuuv/gojsonschema"
)

// The schema comes from the files Debian's golang-github-opencontainers-specs-dev installs,
// through a file:// reference: runtime-tools' CheckJSONSchema would fetch it over the network,
// so it is never called.
func schemaLoader(name string) gojsonschema.JSONLoader {
	abs, _ := filepath.Abs(filepath.Join(*flagSchema, name))
	return gojsonschema.NewReferenceLoader("file://" + abs)
}

func schemaErrors(schema string, doc []byte) ([]string, error) {
	res, err := gojsonschema.Validate(schemaLoader(schema), gojsonschema.NewBytesLoader(doc))
	if err != nil {
		return nil, err
	}
	var errs []string
	for _, e := range res.Errors() {
		errs = append(errs, e.String())
	}
	return errs, nil
}

func init() {
	register("validate", "spec", func(t *T) { validateSpec(t, false) })
	register("validate", "spec --rootless", func(t *T) { validateSpec(t, true) })
	register("validate", "schema sanity", func(t *T) {
		// The schema check must be able to fail: a config with a non-array process.args and a
		// mount without destination is rejected.
		bad := []byte(`{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":"sh","user":{"uid":0,"gid":0}},"mounts":[{"type":"tmpfs"}]}`)
		errs, err := schemaErrors("config-schema.json", bad)
		t.Ok(err == nil && len(errs) >= 2, "the local config schema rejects an invalid config", "err=%v errors=%v", err, errs)
		good := []byte(`{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"],"user":{"uid":0,"gid":0}}}`)
		errs, err = schemaErrors("config-schema.json", good)
		t.Ok(err == nil && len(errs) == 0, "the local config schema accepts a minimal config", "err=%v errors=%v", err, errs)
	})
}

func validateSpec(t *T, rootless bool) {
	dir := filepath.Join(work, "spec")
	if rootless {
		dir += "-rootless"
	}
	must(os.MkdirAll(filepath.Join(dir, "rootfs"), 0755))
	args := []string{"spec"}
	if rootless {
		args = append(args, "--rootless")
	}
	res := runIn(dir, rt.Bin, args...)
	if !t.Ok(res.OK(), "`"+strings.Join(args, " ")+"` writes config.json", "%s", res) {
		return
	}
	doc, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if !t.Ok(err == nil, "config.json exists", "%v", err) {
		return
	}
	errs, err := schemaErrors("config-schema.json", doc)
	t.Ok(err == nil && len(errs) == 0, "passes the runtime-spec JSON schema (local "+filepath.Join(*flagSchema, "config-schema.json")+")",
		"err=%v schema errors=%v", err, errs)

	v, err := validate.NewValidatorFromPath(dir, true, runtime.GOOS)
	if !t.Ok(err == nil, "runtime-tools validate loads the bundle", "%v", err) {
		return
	}
	// CheckMounts with host-specific checks insists that every mount type is in
	// /proc/filesystems, bind mounts included, whose type config.md calls "a dummy, often
	// none": it runs without them, and the types are checked here with that exception.
	vPortable, _ := validate.NewValidatorFromPath(dir, false, runtime.GOOS)
	checkMountTypes(t, doc)
	checks := []struct {
		name string
		fn   func() error
	}{
		{"CheckPlatform", v.CheckPlatform}, {"CheckRoot", v.CheckRoot},
		{"CheckMandatoryFields", v.CheckMandatoryFields}, {"CheckMounts", vPortable.CheckMounts},
		{"CheckProcess", v.CheckProcess}, {"CheckLinux", v.CheckLinux},
		{"CheckAnnotations", v.CheckAnnotations}, {"CheckHooks", v.CheckHooks},
	}
	for _, c := range checks {
		err := c.fn()
		if me, ok := err.(*multierror.Error); ok {
			err = me.ErrorOrNil()
		}
		t.Ok(err == nil, "runtime-tools validate "+c.name+" (host-specific)", "%v", flatten(err))
	}
	// CheckSemVer also insists on the exact version this 2022 runtime-tools snapshot was
	// written for; the SemVer requirement of the spec is checked, the snapshot's version pin
	// is a note.
	var spec struct {
		Version string `json:"ociVersion"`
	}
	json.Unmarshal(doc, &spec)
	_, perr := semver.Parse(spec.Version)
	t.Ok(perr == nil, fmt.Sprintf("ociVersion %q is SemVer (runtime-tools CheckSemVer)", spec.Version), "%v", perr)
	if err := v.CheckSemVer(); err != nil {
		t.Note("runtime-tools CheckSemVer: %v (the snapshot only knows its own spec version; not counted)", flatten(err))
	}
}

func flatten(err error) string {
	if err == nil {
		return ""
	}
	if me, ok := err.(*multierror.Error); ok {
		var s []string
		for _, e := range me.Errors {
			s = append(s, e.Error())
		}
		return strings.Join(s, "; ")
	}
	return err.Error()
}

func checkMountTypes(t *T, doc []byte) {
	var cfg struct {
		Mounts []struct {
			Destination string   `json:"destination"`
			Type        string   `json:"type"`
			Options     []string `json:"options"`
		} `json:"mounts"`
	}
	json.Unmarshal(doc, &cfg)
	fs, _ := os.ReadFile("/proc/filesystems")
	known := map[string]bool{}
	for _, line := range strings.Split(string(fs), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			known[f[len(f)-1]] = true
		}
	}
	var bad []string
	for _, m := range cfg.Mounts {
		bind := false
		for _, o := range m.Options {
			if o == "bind" || o == "rbind" {
				bind = true
			}
		}
		if !bind && m.Type != "" && !known[m.Type] {
			bad = append(bad, m.Destination+": "+m.Type)
		}
	}
	t.Ok(len(bad) == 0, "mount types are filesystems of this kernel (/proc/filesystems; bind mounts excepted)", "%v", bad)
}
