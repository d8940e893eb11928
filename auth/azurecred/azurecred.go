// Package azurecred is the Azure credential chain: an
// azcore.TokenCredential that tries, in order,
//
//  1. a service principal from the environment (AZURE_TENANT_ID,
//     AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or
//     AZURE_CLIENT_CERTIFICATE_PATH);
//  2. workload identity (AZURE_FEDERATED_TOKEN_FILE with AZURE_TENANT_ID and
//     AZURE_CLIENT_ID, as AKS sets them);
//  3. managed identity: system-assigned, or user-assigned when
//     AZURE_CLIENT_ID is set; App Service and Functions
//     (IDENTITY_ENDPOINT, IDENTITY_HEADER), Azure Arc, Cloud Shell, or the
//     VM's IMDS;
//  4. the Azure CLI (az account get-access-token);
//  5. the Azure Developer CLI (azd auth token);
//  6. Azure PowerShell (Get-AzAccessToken).
//
// AZURE_TOKEN_CREDENTIALS narrows the chain as azidentity's
// DefaultAzureCredential does: "prod" keeps the deployed sources (1 to 3),
// "dev" the developer tools (4 to 6) (both in lower case), and the name of
// one credential type (EnvironmentCredential, WorkloadIdentityCredential,
// ManagedIdentityCredential, AzureCLICredential,
// AzureDeveloperCLICredential, AzurePowerShellCredential; any case) keeps
// that source alone. Any other value makes NewChain fail, naming the valid
// ones. The sources left out are in the Report, skipped, with the variable
// as the reason.
//
// Each source is azidentity's; they read their own variables. The first
// source that gives a token is used from then on. Report says, for every
// source, whether it was used, skipped (not configured) or failed, and why;
// when all fail, GetToken returns an *auth.NoCredentialsError saying the
// same. The chain never falls back to anonymous access.
package azurecred

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/internal/events"
)

// IMDSProbeTimeout bounds the first managed-identity attempt when the only
// endpoint is the VM's IMDS, so the chain moves on quickly off Azure.
const IMDSProbeTimeout = 2 * time.Second

// Options configures NewChain. nil means the zero value.
type Options struct {
	// ClientOptions go to every azidentity credential (transport, cloud).
	ClientOptions azcore.ClientOptions
	// Getenv reads the variables the chain itself reads (AZURE_CLIENT_ID,
	// IDENTITY_ENDPOINT, MSI_ENDPOINT); nil means os.Getenv. The azidentity
	// sources read theirs from the process environment.
	Getenv func(string) string
	// DisableInstanceDiscovery skips Microsoft Entra instance discovery for
	// the environment and workload identity sources (for Azure Stack, or a
	// private or test authority set with AZURE_AUTHORITY_HOST).
	DisableInstanceDiscovery bool
	// DisableManagedIdentity and DisableCLI skip those sources
	// (DisableCLI: the Azure CLI, the Azure Developer CLI and Azure
	// PowerShell).
	DisableManagedIdentity bool
	DisableCLI             bool
}

// The credential type names AZURE_TOKEN_CREDENTIALS takes, as azidentity
// names them, by source.
var typeNames = map[string]string{
	"environment": "EnvironmentCredential", "workload identity": "WorkloadIdentityCredential",
	"managed identity": "ManagedIdentityCredential", "azure cli": "AzureCLICredential",
	"azure developer cli": "AzureDeveloperCLICredential", "azure powershell": "AzurePowerShellCredential",
}

// deployed are the sources "prod" keeps; the others are "dev".
var deployed = map[string]bool{"environment": true, "workload identity": true, "managed identity": true}

// selection reads AZURE_TOKEN_CREDENTIALS: keep reports whether a source
// is in the chain, why says why not.
func selection(getenv func(string) string) (keep func(name string) bool, why string, err error) {
	v := strings.TrimSpace(getenv("AZURE_TOKEN_CREDENTIALS"))
	why = "excluded by AZURE_TOKEN_CREDENTIALS=" + v
	switch {
	case v == "":
		return func(string) bool { return true }, "", nil
	case v == "prod": // lower case only, as azidentity reads it
		return func(n string) bool { return deployed[n] }, why, nil
	case v == "dev":
		return func(n string) bool { return !deployed[n] }, why, nil
	}
	for name, tn := range typeNames {
		if strings.EqualFold(v, tn) {
			return func(n string) bool { return n == name }, why, nil
		}
	}
	return nil, "", fmt.Errorf("azure: AZURE_TOKEN_CREDENTIALS=%q is not valid: use dev, prod, or one of EnvironmentCredential, WorkloadIdentityCredential, ManagedIdentityCredential, AzureCLICredential, AzureDeveloperCLICredential, AzurePowerShellCredential", v)
}

type source struct {
	name string
	cred azcore.TokenCredential // nil when not configured
	why  string                 // why it is not configured
	imds bool                   // a managed identity that can only be IMDS
}

// Chain is the credential chain. It is safe for concurrent use.
type Chain struct {
	sources []source

	mu     sync.Mutex
	chosen azcore.TokenCredential
	report auth.Report
}

// NewChain builds the chain's sources. It does not fetch a token; errors
// come from GetToken, except an AZURE_TOKEN_CREDENTIALS value that names no
// source (see the package doc).
func NewChain(opts *Options) (*Chain, error) {
	if opts == nil {
		opts = &Options{}
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	keep, excluded, err := selection(getenv)
	if err != nil {
		return nil, err
	}
	c, err := newChain(opts, getenv)
	if err != nil {
		return nil, err
	}
	chosen := 0
	for i, s := range c.sources {
		if !keep(s.name) {
			c.sources[i] = source{name: s.name, why: excluded}
		} else if s.cred != nil {
			chosen++
		}
	}
	// Managed identity alone is not probed with a short timeout: with
	// nothing to fall back to, IMDS gets all the time the caller gives.
	for i := range c.sources {
		if c.sources[i].imds && chosen == 1 {
			c.sources[i].imds = false
		}
	}
	return c, nil
}

func newChain(opts *Options, getenv func(string) string) (*Chain, error) {
	c := &Chain{}
	if cred, err := azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{ClientOptions: opts.ClientOptions, DisableInstanceDiscovery: opts.DisableInstanceDiscovery}); err != nil {
		c.sources = append(c.sources, source{name: "environment", why: "AZURE_TENANT_ID, AZURE_CLIENT_ID and a secret or certificate are not all set"})
	} else {
		c.sources = append(c.sources, source{name: "environment", cred: cred})
	}
	if cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{ClientOptions: opts.ClientOptions, DisableInstanceDiscovery: opts.DisableInstanceDiscovery}); err != nil {
		c.sources = append(c.sources, source{name: "workload identity", why: "AZURE_FEDERATED_TOKEN_FILE, AZURE_TENANT_ID and AZURE_CLIENT_ID are not all set"})
	} else {
		c.sources = append(c.sources, source{name: "workload identity", cred: cred})
	}
	if opts.DisableManagedIdentity {
		c.sources = append(c.sources, source{name: "managed identity", why: "disabled"})
	} else {
		mo := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts.ClientOptions}
		if id := getenv("AZURE_CLIENT_ID"); id != "" {
			mo.ID = azidentity.ClientID(id)
		}
		cred, err := azidentity.NewManagedIdentityCredential(mo)
		if err != nil {
			c.sources = append(c.sources, source{name: "managed identity", why: err.Error()})
		} else {
			imds := getenv("IDENTITY_ENDPOINT") == "" && getenv("MSI_ENDPOINT") == ""
			c.sources = append(c.sources, source{name: "managed identity", cred: cred, imds: imds})
		}
	}
	if opts.DisableCLI {
		c.sources = append(c.sources, source{name: "azure cli", why: "disabled"},
			source{name: "azure developer cli", why: "disabled"}, source{name: "azure powershell", why: "disabled"})
		return c, nil
	}
	if cred, err := azidentity.NewAzureCLICredential(nil); err != nil {
		c.sources = append(c.sources, source{name: "azure cli", why: err.Error()})
	} else {
		c.sources = append(c.sources, source{name: "azure cli", cred: cred})
	}
	if cred, err := azidentity.NewAzureDeveloperCLICredential(nil); err != nil {
		c.sources = append(c.sources, source{name: "azure developer cli", why: err.Error()})
	} else {
		c.sources = append(c.sources, source{name: "azure developer cli", cred: cred})
	}
	if cred, err := azidentity.NewAzurePowerShellCredential(nil); err != nil {
		c.sources = append(c.sources, source{name: "azure powershell", why: err.Error()})
	} else {
		c.sources = append(c.sources, source{name: "azure powershell", cred: cred})
	}
	return c, nil
}

// GetToken returns a token from the first source that gives one, and keeps
// using that source afterwards. When none does, the error is an
// *auth.NoCredentialsError listing every source.
func (c *Chain) GetToken(ctx context.Context, tro policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	chosen := c.chosen
	c.mu.Unlock()
	if chosen != nil {
		// The bearer policy asks only when its cached token is about to
		// expire: each call here is a refresh.
		if events.Listening(ctx) {
			from := "the chosen source"
			if a, ok := c.Report().Used(); ok {
				from = a.Source
			}
			events.Notify(ctx, events.Event{Kind: events.CredentialsRefresh, Detail: "azure: a new token from " + from})
		}
		return chosen.GetToken(ctx, tro)
	}
	rep := auth.Report{Chain: "azure"}
	for _, s := range c.sources {
		if s.cred == nil {
			rep.Add(auth.Attempt{Source: s.name, Outcome: auth.Skipped, Reason: s.why})
			continue
		}
		tctx := ctx
		if s.imds {
			var cancel context.CancelFunc
			tctx, cancel = context.WithTimeout(ctx, IMDSProbeTimeout)
			defer cancel()
		}
		tok, err := s.cred.GetToken(tctx, tro)
		if err != nil {
			if s.imds && errors.Is(tctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
				err = fmt.Errorf("no IMDS answered within %v", IMDSProbeTimeout)
			}
			rep.Add(auth.Attempt{Source: s.name, Outcome: auth.Failed, Err: err})
			if ctx.Err() != nil {
				break
			}
			continue
		}
		rep.Add(auth.Attempt{Source: s.name, Outcome: auth.Used})
		c.mu.Lock()
		c.chosen, c.report = s.cred, rep
		c.mu.Unlock()
		events.Notify(ctx, events.Event{Kind: events.CredentialsSource, Detail: rep.String()})
		return tok, nil
	}
	c.mu.Lock()
	c.report = rep
	c.mu.Unlock()
	return azcore.AccessToken{}, &auth.NoCredentialsError{Report: rep}
}

// Report returns the account of the last source selection: empty before
// the first GetToken.
func (c *Chain) Report() auth.Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.report
}
