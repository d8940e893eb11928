package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/anyblob/anyblob/conformance/emulator"
)

var (
	cliFiles    = flag.Int("cli.files", 1000, "files of the recursive copies of BenchmarkCLI")
	cliFileSize = flag.Int("cli.filesize", 64<<10, "size of each of those files, in bytes")
	cliBig      = flag.Int64("cli.big", 1<<30, "size of BenchmarkCLI's one big file, in bytes")
	cliSync     = flag.Int("cli.sync", 10000, "objects of BenchmarkCLI's unchanged sync")
)

// BenchmarkCLI compares the anyblob command with the aws CLI (and a raw
// presigned curl) on one MinIO, as the command-line issue's targets say:
// a recursive copy of many small files up and down, one big file up and
// down, and a sync with nothing to do over many objects. A tool not on
// PATH is left out (logged). Each case runs once per b.N; ns/op is its
// wall time.
//
//	cd bench && go test -run '^$' -bench BenchmarkCLI -benchtime 1x -timeout 60m
//	  [-cli.files 1000 -cli.filesize 65536 -cli.big 1073741824 -cli.sync 10000]
func BenchmarkCLI(b *testing.B) { benchCLI(b, emulator.MinIO(b)) }

// BenchmarkCLITLS is BenchmarkCLI over https, as S3 itself is reached: the
// same MinIO with a self-signed certificate that every tool is told to
// trust (SSL_CERT_FILE, AWS_CA_BUNDLE, curl --cacert). Over https
// anyblob sends UNSIGNED-PAYLOAD with each body's CRC32C, as the AWS SDKs
// do; over http it signs every byte's SHA-256, and the server checks it.
//
//	cd bench && go test -run '^$' -bench BenchmarkCLITLS -benchtime 1x -timeout 60m
func BenchmarkCLITLS(b *testing.B) {
	ep := emulator.MinIOTLS(b)
	b.Setenv("SSL_CERT_FILE", ep.CAFile)
	b.Setenv("AWS_CA_BUNDLE", ep.CAFile)
	benchCLI(b, ep)
}

// benchCLI runs BenchmarkCLI's cases on ep.
func benchCLI(b *testing.B, ep *emulator.MinIOServer) {
	b.Setenv("HOME", b.TempDir())
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b.Setenv("AWS_ACCESS_KEY_ID", ep.AccessKey)
	b.Setenv("AWS_SECRET_ACCESS_KEY", ep.SecretKey)
	b.Setenv("AWS_REGION", ep.Region)
	b.Setenv("AWS_DEFAULT_REGION", ep.Region)
	b.Setenv("AWS_ENDPOINT_URL", ep.Endpoint)

	bin := buildCLI(b)
	_, awsErr := exec.LookPath("aws")
	_, curlErr := exec.LookPath("curl")
	curl := func(b *testing.B, args ...string) {
		if ep.CAFile != "" {
			args = append([]string{"--cacert", ep.CAFile}, args...)
		}
		sh(b, "curl", args...)
	}
	s3url := func(path string) string {
		return fmt.Sprintf("s3://%s?region=%s&endpoint=%s", path, ep.Region, ep.Endpoint)
	}
	sh(b, bin, "mb", s3url("cli"))

	// Many small files.
	dir := b.TempDir()
	smallFiles(b, dir, *cliFiles, *cliFileSize)
	small := fmt.Sprintf("%dx%dKiB", *cliFiles, *cliFileSize>>10)
	// Each upload goes to a fresh prefix, as a new folder would: MinIO
	// takes a third longer to overwrite 1,000 objects than to create them,
	// which would measure the server, not the tool. Downloads read the
	// first upload.
	b.Run("up/"+small+"/anyblob", func(b *testing.B) {
		i := 0
		for b.Loop() {
			sh(b, bin, "cp", "-r", "-q", dir, s3url(fmt.Sprintf("cli/any-small/%d/", i)))
			i++
		}
	})
	b.Run("down/"+small+"/anyblob", func(b *testing.B) {
		for b.Loop() {
			sh(b, bin, "cp", "-r", "-q", s3url("cli/any-small/0/"), b.TempDir()+"/")
		}
	})
	// The server's own ceiling for these PUTs: minio-go in this process,
	// the files already in memory, 8 at once, no payload signature and no
	// checksum (what a presigned PUT sends), no process to start and no
	// file to read. No command can copy the files faster than this.
	// (Over http; over https it pays for TLS as the commands do.)
	b.Run("up/"+small+"/floor-minio-go-in-process", func(b *testing.B) {
		files := readSmallFiles(b, dir)
		host, secure := strings.CutPrefix(ep.Endpoint, "https://")
		host = strings.TrimPrefix(host, "http://")
		opts := &minio.Options{Creds: miniocreds.NewStaticV4(ep.AccessKey, ep.SecretKey, ""), Region: ep.Region, Secure: secure}
		if secure {
			pem, err := os.ReadFile(ep.CAFile)
			if err != nil {
				b.Fatal(err)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			opts.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 16}
		}
		mc, err := minio.New(host, opts)
		if err != nil {
			b.Fatal(err)
		}
		i := 0
		for b.Loop() {
			putAll(b, mc, fmt.Sprintf("floor-small/%d/", i), files, 8)
			i++
		}
	})
	if awsErr == nil {
		b.Run("up/"+small+"/aws-s3-cp-recursive", func(b *testing.B) {
			i := 0
			for b.Loop() {
				sh(b, "aws", "s3", "cp", "--recursive", "--only-show-errors", dir, fmt.Sprintf("s3://cli/aws-small/%d/", i))
				i++
			}
		})
		b.Run("down/"+small+"/aws-s3-cp-recursive", func(b *testing.B) {
			for b.Loop() {
				sh(b, "aws", "s3", "cp", "--recursive", "--only-show-errors", "s3://cli/aws-small/0/", b.TempDir())
			}
		})
	} else {
		b.Log("aws CLI not on PATH: left out")
	}

	// One big file.
	bigFile := filepath.Join(b.TempDir(), "big.bin")
	{
		f, err := os.Create(bigFile)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 16<<20)
		rand.Read(buf)
		for n := int64(0); n < *cliBig; n += int64(len(buf)) {
			f.Write(buf[:min(int64(len(buf)), *cliBig-n)])
		}
		f.Close()
	}
	big := fmt.Sprintf("%dMiB", *cliBig>>20)
	b.Run("up/"+big+"/anyblob", func(b *testing.B) {
		b.SetBytes(*cliBig)
		for b.Loop() {
			sh(b, bin, "cp", "-q", bigFile, s3url("cli/big.bin"))
		}
	})
	b.Run("down/"+big+"/anyblob", func(b *testing.B) {
		b.SetBytes(*cliBig)
		for b.Loop() {
			sh(b, bin, "cp", "-q", s3url("cli/big.bin"), filepath.Join(b.TempDir(), "big.bin"))
		}
	})
	if curlErr == nil {
		b.Run("up/"+big+"/curl-presigned", func(b *testing.B) {
			b.SetBytes(*cliBig)
			for b.Loop() {
				u := presign(b, bin, "PUT", s3url("cli/curl.bin"))
				curl(b, "-sSf", "-o", "/dev/null", "-T", bigFile, u)
			}
		})
		b.Run("down/"+big+"/curl-presigned", func(b *testing.B) {
			b.SetBytes(*cliBig)
			for b.Loop() {
				u := presign(b, bin, "GET", s3url("cli/big.bin"))
				curl(b, "-sSf", "-o", filepath.Join(b.TempDir(), "big.bin"), u)
			}
		})
	}
	if awsErr == nil {
		b.Run("up/"+big+"/aws-s3-cp", func(b *testing.B) {
			b.SetBytes(*cliBig)
			for b.Loop() {
				sh(b, "aws", "s3", "cp", "--only-show-errors", bigFile, "s3://cli/aws-big.bin")
			}
		})
		b.Run("down/"+big+"/aws-s3-cp", func(b *testing.B) {
			b.SetBytes(*cliBig)
			for b.Loop() {
				sh(b, "aws", "s3", "cp", "--only-show-errors", "s3://cli/big.bin", filepath.Join(b.TempDir(), "big.bin"))
			}
		})
	}

	// A sync with nothing to do.
	syncDir := b.TempDir()
	for i := range *cliSync {
		p := filepath.Join(syncDir, fmt.Sprintf("s%03d", i%100), fmt.Sprintf("o%05d", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	sh(b, bin, "sync", "-q", syncDir, s3url("cli/sync/"))
	unchanged := fmt.Sprintf("%d-unchanged", *cliSync)
	b.Run("sync/"+unchanged+"/anyblob", func(b *testing.B) {
		for b.Loop() {
			sh(b, bin, "sync", "-q", syncDir, s3url("cli/sync/"))
		}
	})
	b.Run("list/"+unchanged+"/anyblob-ls-r", func(b *testing.B) {
		for b.Loop() {
			sh(b, bin, "ls", "-r", s3url("cli/sync/"))
		}
	})
	if awsErr == nil {
		sh(b, "aws", "s3", "sync", "--only-show-errors", syncDir, "s3://cli/aws-sync/")
		b.Run("sync/"+unchanged+"/aws-s3-sync", func(b *testing.B) {
			for b.Loop() {
				sh(b, "aws", "s3", "sync", "--only-show-errors", syncDir, "s3://cli/aws-sync/")
			}
		})
	}
}

// presign returns a presigned URL of method for the object address.
func presign(b *testing.B, bin, method, address string) string {
	out, err := exec.Command(bin, "presign", "--method", method, address).Output()
	if err != nil {
		b.Fatalf("presign: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// BenchmarkCLIGCS compares the anyblob command with gcloud storage on
// fake-gcs-server: a recursive copy of many small files up and down, and
// an rsync with nothing to do. gcloud not on PATH leaves the benchmark
// out (logged).
//
//	cd bench && go test -run '^$' -bench BenchmarkCLIGCS -benchtime 1x -timeout 30m [-cli.files 1000 -cli.sync 10000]
func BenchmarkCLIGCS(b *testing.B) {
	if _, err := exec.LookPath("gcloud"); err != nil {
		b.Skip("gcloud not on PATH")
	}
	b.Setenv("HOME", b.TempDir())
	b.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
	srv := emulator.FakeGCS(b, "cli")
	host := strings.TrimPrefix(srv.Endpoint, "http://")
	b.Setenv("STORAGE_EMULATOR_HOST", host)
	b.Setenv("CLOUDSDK_CONFIG", b.TempDir())
	b.Setenv("CLOUDSDK_AUTH_DISABLE_CREDENTIALS", "true")
	b.Setenv("CLOUDSDK_CORE_PROJECT", "test")
	b.Setenv("CLOUDSDK_CORE_DISABLE_PROMPTS", "1")
	b.Setenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE", srv.Endpoint+"/")
	bin := buildCLI(b)
	gs := func(path string) string { return "gs://" + path + "?project=test" }
	dir := b.TempDir()
	smallFiles(b, dir, *cliFiles, *cliFileSize)
	small := fmt.Sprintf("%dx%dKiB", *cliFiles, *cliFileSize>>10)
	b.Run("up/"+small+"/anyblob", func(b *testing.B) {
		for b.Loop() {
			sh(b, bin, "cp", "-r", "-q", dir, gs("cli/any/"))
		}
	})
	b.Run("up/"+small+"/gcloud-storage-cp-r", func(b *testing.B) {
		for b.Loop() {
			sh(b, "gcloud", "storage", "cp", "-r", "--no-user-output-enabled", dir, "gs://cli/gcloud/")
		}
	})
	b.Run("down/"+small+"/anyblob", func(b *testing.B) {
		for b.Loop() {
			sh(b, bin, "cp", "-r", "-q", gs("cli/any/"), b.TempDir()+"/")
		}
	})
	b.Run("down/"+small+"/gcloud-storage-cp-r", func(b *testing.B) {
		for b.Loop() {
			sh(b, "gcloud", "storage", "cp", "-r", "--no-user-output-enabled", "gs://cli/gcloud/*", b.TempDir())
		}
	})
	b.Run("sync/"+small+"-unchanged/anyblob", func(b *testing.B) {
		for b.Loop() {
			sh(b, bin, "sync", "-q", dir, gs("cli/any/"))
		}
	})
	b.Run("sync/"+small+"-unchanged/gcloud-storage-rsync", func(b *testing.B) {
		sh(b, "gcloud", "storage", "rsync", "-r", "--no-user-output-enabled", dir, "gs://cli/gsync/")
		for b.Loop() {
			sh(b, "gcloud", "storage", "rsync", "-r", "--no-user-output-enabled", dir, "gs://cli/gsync/")
		}
	})
}

// buildCLI builds the anyblob command into a temporary folder.
func buildCLI(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "anyblob")
	build := exec.Command("go", "build", "-o", bin, "./cmd/anyblob")
	build.Dir = ".." // the main module, with the command's own dependencies
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building the command: %v\n%s", err, out)
	}
	return bin
}

// sh runs a command and fails b with its output when it fails.
func sh(b *testing.B, name string, args ...string) {
	b.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
}

// smallFiles writes n files of size random bytes in 20 folders under dir.
func smallFiles(b *testing.B, dir string, n, size int) {
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("d%02d", i%20), fmt.Sprintf("f%05d.bin", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		data := make([]byte, size)
		rand.Read(data)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// readSmallFiles reads every file under dir, by its path relative to dir.
func readSmallFiles(b *testing.B, dir string) map[string][]byte {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return files
}

// putAll writes files under prefix in bucket "cli" with minio-go, jobs at
// once, unsigned and without checksums.
func putAll(b *testing.B, mc *minio.Client, prefix string, files map[string][]byte, jobs int) {
	names := make(chan string)
	errs := make(chan error, jobs)
	for range jobs {
		go func() {
			var first error
			for name := range names {
				data := files[name]
				if _, err := mc.PutObject(context.Background(), "cli", prefix+name, bytes.NewReader(data), int64(len(data)),
					minio.PutObjectOptions{DisableContentSha256: true}); err != nil && first == nil {
					first = err
				}
			}
			errs <- first
		}()
	}
	for name := range files {
		names <- name
	}
	close(names)
	for range jobs {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}
