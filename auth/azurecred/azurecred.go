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
//  4. the Azure CLI (az account get-access-token).
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
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/anyblob/anyblob/auth"
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
	// DisableManagedIdentity and DisableCLI skip those sources.
	DisableManagedIdentity bool
	DisableCLI             bool
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
// come from GetToken.
func NewChain(opts *Options) (*Chain, error) {
	if opts == nil {
		opts = &Options{}
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
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
		c.sources = append(c.sources, source{name: "azure cli", why: "disabled"})
	} else if cred, err := azidentity.NewAzureCLICredential(nil); err != nil {
		c.sources = append(c.sources, source{name: "azure cli", why: err.Error()})
	} else {
		c.sources = append(c.sources, source{name: "azure cli", cred: cred})
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
