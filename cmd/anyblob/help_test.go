package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

// runBare runs a command line with no -bucket added.
func runBare(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestHelpGoesToStdoutAndSucceeds: every way of asking for help prints it
// on standard output, prints nothing on standard error and exits 0.
func TestHelpGoesToStdoutAndSucceeds(t *testing.T) {
	for _, args := range [][]string{
		{"-h"}, {"--help"}, {"-help"}, {"help"},
		{"help", "cp"}, {"cp", "-h"}, {"cp", "--help"}, {"cp", "-help"},
		{"--bucket", "mem://x", "ls", "--help"}, {"help", "completion"},
	} {
		code, out, errOut := runBare(args...)
		require.Equal(t, 0, code, "%v: %s", args, errOut)
		require.Empty(t, errOut, "%v", args)
		require.Contains(t, out, "Usage:", "%v", args)
	}
	_, out, _ := runBare("--help")
	require.Contains(t, out, "Exit status: 0 success, 2 usage error, 3 not found, 4 precondition failed")
	for _, name := range []string{"ls", "cat", "cp", "rm", "stat", "presign", "mb", "rb", "completion", "help"} {
		require.Contains(t, out, "\n  "+name+" ", "the main help lists %s", name)
	}
}

// TestEachCommandsHelpShowsItsFlagsAndAnExample reads every command's
// help as a user gets it (anyblob help CMD) and checks that each of its
// flags is there with its description, and that there is an example.
func TestEachCommandsHelpShowsItsFlagsAndAnExample(t *testing.T) {
	root := newRootCmd(nil, io.Discard, io.Discard)
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			code, out, errOut := runBare("help", c.Name())
			require.Equal(t, 0, code, errOut)
			require.Contains(t, out, "Examples:\n  anyblob "+c.Name())
			require.Contains(t, out, "--bucket string", "the global flag is listed")
			c.LocalFlags().VisitAll(func(f *pflag.Flag) {
				require.NotEmpty(t, f.Usage, "--%s has a description", f.Name)
				require.Contains(t, out, "--"+f.Name, "--%s is listed", f.Name)
				require.Contains(t, out, f.Usage, "with its description")
			})
			// -h and help CMD print the same.
			_, viaFlag, _ := runBare(c.Name(), "-h")
			require.Equal(t, out, viaFlag)
		})
	}
}

func TestVersion(t *testing.T) {
	code, out, errOut := runBare("--version")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "anyblob "+version()+"\n", out)
	// A test binary, like a binary built from a checkout, has no release
	// version.
	require.Equal(t, "(devel)", version())
}

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, errOut := runBare("completion", shell)
		require.Equal(t, 0, code, "%s: %s", shell, errOut)
		require.Contains(t, out, "anyblob", shell)
	}
	// The commands complete from their names.
	code, out, _ := runBare(cobra.ShellCompRequestCmd, "pre")
	require.Equal(t, 0, code)
	require.Contains(t, out, "presign")
}

// TestFlagsAfterArguments: flags are taken before and after the
// arguments, long flags Go-style (-bucket) too, and "--" ends them.
func TestFlagsAfterArguments(t *testing.T) {
	c := newCLI(t)
	c.ok("1", "cp", "-", ":docs/a.txt")
	c.ok("2", "cp", "-", ":docs/sub/b.txt", "--content-type", "text/plain")
	c.ok("3", "cp", "-", "-content-type=text/plain", ":docs/-dash")

	before := c.ok("", "ls", "-r", "docs/")
	require.Equal(t, before, c.ok("", "ls", "docs/", "-r"))
	require.Equal(t, before, c.ok("", "ls", "docs/", "--recursive"))
	require.Len(t, strings.Split(strings.TrimSpace(before), "\n"), 3)

	// --bucket after the command, and Go-style.
	code, out, errOut := runBare("ls", "-r", "docs/", "--bucket", c.bucket)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, before, out)
	code, out, errOut = runBare("-bucket", c.bucket, "ls", "-r", "docs/")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, before, out)

	// After "--", an argument that looks like a flag is an argument.
	require.Equal(t, "3", c.ok("", "cat", "--", "docs/-dash"))
	c.ok("", "rm", "--", "docs/-dash")
}

// TestErrorsAreOneLine: a failure prints one line to standard error, with
// one "anyblob:" prefix, whatever the failure.
func TestErrorsAreOneLine(t *testing.T) {
	c := newCLI(t)
	for _, args := range [][]string{
		{"ls", "-z"}, {"nope"}, {}, {"cp", "a"}, {"cat", "absent"}, {"ls", "--bucket"},
		{"stat", "a", "b"}, {"--bucket", "nope://x", "ls"}, {"presign", "--expires", "soon", "k"},
	} {
		code, out, errOut := c.run("", args...)
		require.NotEqual(t, 0, code, "%v", args)
		require.Empty(t, out, "%v", args)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "%v: one line: %q", args, errOut)
		require.True(t, strings.HasPrefix(errOut, "anyblob: "), "%v: %q", args, errOut)
		require.Equal(t, 1, strings.Count(errOut, "anyblob:"), "%v: %q", args, errOut)
	}
}
