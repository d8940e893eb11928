// Command anyblob-emulators starts the local emulators anyblob's tests and
// examples use (MinIO for S3, Azurite for Azure Blob, fake-gcs-server for
// GCS) once, shared, and prints the environment that points anyblob, the
// aws CLI and the cloud SDKs at them:
//
//	eval "$(go run ./cmd/anyblob-emulators env)"   # start them (or find them running)
//	go run ./cmd/anyblob mb s3://demo              # a bucket on MinIO
//	CLOUD_PROVIDER=aws CLOUD_BUCKET=demo go run ./examples/quickstart
//	go run ./cmd/anyblob-emulators stop            # stop them
//
// The emulators are the shared ones of package emulator: started once,
// recorded in the run folder beside the installed binaries, found again by
// tests (blobtest) and by later runs of this command. Install the binaries
// first with scripts/install-emulators.sh.
//
// Commands:
//
//	env [minio|azurite|fake-gcs-server]...   start them (all by default) and print export lines
//	stop                                      stop every shared emulator
//	status                                    print the run folder and what is recorded in it
//
// The exit status is 0 on success, 2 for a usage error, 1 otherwise.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/anyblob/anyblob/conformance/emulator"
)

const usage = `usage: anyblob-emulators env [minio|azurite|fake-gcs-server]... | stop | status`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "env":
		err = env(args[1:], stdout)
	case "stop":
		var names []string
		names, err = emulator.StopShared()
		if err == nil {
			fmt.Fprintf(stdout, "stopped: %s\n", orNone(names))
		}
	case "status":
		err = status(stdout)
	default:
		fmt.Fprintf(stderr, "anyblob-emulators: unknown command %q\n%s\n", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "anyblob-emulators:", err)
		return 1
	}
	return 0
}

// env starts the named emulators (all when none is named) and prints the
// variables that point clients at them, as shell export lines.
func env(names []string, out io.Writer) error {
	if len(names) == 0 {
		names = []string{"minio", "azurite", "fake-gcs-server"}
	}
	for _, n := range names {
		switch n {
		case "minio":
			s, err := emulator.StartSharedMinIO()
			if err != nil {
				return err
			}
			export(out, "# MinIO (S3): "+s.Endpoint,
				"AWS_ACCESS_KEY_ID", s.AccessKey, "AWS_SECRET_ACCESS_KEY", s.SecretKey,
				"AWS_REGION", s.Region, "AWS_ENDPOINT_URL_S3", s.Endpoint, "AWS_EC2_METADATA_DISABLED", "true")
		case "azurite":
			s, err := emulator.StartSharedAzurite()
			if err != nil {
				return err
			}
			export(out, "# Azurite (Azure Blob): "+s.BlobEndpoint,
				"AZURE_STORAGE_CONNECTION_STRING", s.ConnectionString)
		case "fake-gcs-server":
			s, err := emulator.StartSharedFakeGCS()
			if err != nil {
				return err
			}
			export(out, "# fake-gcs-server (GCS): "+s.Endpoint,
				"STORAGE_EMULATOR_HOST", s.Host, "GOOGLE_CLOUD_PROJECT", "anyblob-local")
		default:
			return fmt.Errorf("unknown emulator %q (want minio, azurite or fake-gcs-server)", n)
		}
	}
	return nil
}

func export(out io.Writer, comment string, kv ...string) {
	fmt.Fprintln(out, comment)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(out, "export %s='%s'\n", kv[i], strings.ReplaceAll(kv[i+1], "'", `'\''`))
	}
}

func status(out io.Writer) error {
	dir := emulator.RunDir()
	fmt.Fprintf(out, "run folder: %s\n", dir)
	recs, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	for _, r := range recs {
		b, err := os.ReadFile(r)
		if err != nil {
			return err
		}
		var rec struct {
			PID     int
			Started string
			Server  map[string]any
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
		endpoint := rec.Server["Endpoint"]
		if endpoint == nil {
			endpoint = rec.Server["BlobEndpoint"]
		}
		// Keys and connection strings stay out of the output.
		fmt.Fprintf(out, "%s: pid %d, %v, started %s\n", strings.TrimSuffix(filepath.Base(r), ".json"), rec.PID, endpoint, rec.Started)
	}
	if len(recs) == 0 {
		fmt.Fprintln(out, "no shared emulator recorded")
	}
	return nil
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none were running"
	}
	return strings.Join(names, ", ")
}
