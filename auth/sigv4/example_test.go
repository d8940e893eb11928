package sigv4_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/anyblob/anyblob/auth/sigv4"
)

func ExampleSigner_Sign() {
	s := &sigv4.Signer{Service: "s3", Region: "us-east-1"}
	creds := sigv4.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	req, _ := http.NewRequest(http.MethodGet, "https://examplebucket.s3.amazonaws.com/test.txt", nil)
	req.Header.Set("Range", "bytes=0-9")
	at := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	if err := s.Sign(req, creds, sigv4.EmptyPayloadHash, at); err != nil {
		panic(err)
	}
	fmt.Println(req.Header.Get("Authorization"))
	// Output:
	// AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41
}

func ExampleSigner_Presign() {
	s := &sigv4.Signer{Service: "s3", Region: "us-east-1"}
	creds := sigv4.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	req, _ := http.NewRequest(http.MethodGet, "https://examplebucket.s3.amazonaws.com/test.txt", nil)
	u, err := s.Presign(req, creds, sigv4.UnsignedPayload, 24*time.Hour, time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	fmt.Println(u)
	// Output:
	// https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404
}

// A service that accepts requests signed for "execute-api" in eu-west-1,
// and a client that signs them with the Transport.
func ExampleVerifier_Middleware() {
	keys := map[string]sigv4.Credentials{"AKIDCLIENT": {AccessKeyID: "AKIDCLIENT", SecretAccessKey: "client-secret", AccountID: "111122223333"}}
	v := &sigv4.Verifier{
		Service: "execute-api",
		Region:  "eu-west-1",
		Credentials: func(_ context.Context, akid string) (sigv4.Credentials, error) {
			if c, ok := keys[akid]; ok {
				return c, nil
			}
			return sigv4.Credentials{}, sigv4.ErrUnknownAccessKey
		},
	}
	srv := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := sigv4.IdentityFrom(r.Context())
		fmt.Fprintf(w, "hello %s", id.AccountID)
	})))
	defer srv.Close()

	client := &http.Client{Transport: &sigv4.Transport{
		Source: sigv4.StaticCredentials(keys["AKIDCLIENT"]),
		Signer: &sigv4.Signer{Service: "execute-api", Region: "eu-west-1"},
	}}
	resp, err := client.Get(srv.URL + "/prod/greeting")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	unsigned, err := http.Get(srv.URL + "/prod/greeting")
	if err != nil {
		panic(err)
	}
	defer unsigned.Body.Close()
	var b [64]byte
	n, _ := resp.Body.Read(b[:])
	fmt.Println(resp.StatusCode, string(b[:n]), unsigned.StatusCode)
	// Output:
	// 200 hello 111122223333 403
}
