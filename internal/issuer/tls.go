package issuer

import (
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Thumbprint is the lowercase hex SHA-1 of a certificate's DER bytes, the
// form IAM keeps in an OIDC provider's ThumbprintList.
func Thumbprint(cert *x509.Certificate) string {
	sum := sha1.Sum(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// FetchThumbprint connects to host ("host", "host:port" or an https URL),
// and returns the thumbprint of the last certificate the server sends (the
// top intermediate or root, which is what IAM computes) with the chain
// details. Setup adds it to the provider when TLSInfo.PubliclyTrusted is
// false; for a publicly trusted issuer AWS ignores thumbprints.
func FetchThumbprint(ctx context.Context, host string, opts Options) (string, TLSInfo, error) {
	opts = opts.withDefaults()
	hostport, err := hostPort(host)
	if err != nil {
		return "", TLSInfo{Host: host, Err: err.Error()}, err
	}
	info := inspectTLS(ctx, hostport, opts)
	if info.Err != "" {
		return "", info, errors.New(info.Err)
	}
	return info.TopThumbprint, info, nil
}

// hostPort turns "host", "host:port" or "https://host[:port]/path" into
// host:port, defaulting to 443.
func hostPort(s string) (string, error) {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return "", fmt.Errorf("parse %q: %w", s, err)
		}
		s = u.Host
	}
	if s == "" {
		return "", errors.New("no host given")
	}
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s, nil
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), "443"), nil
}

// inspectTLS makes a TLS handshake that accepts any certificate, so that the
// chain can be recorded and judged even when it does not verify.
func inspectTLS(ctx context.Context, hostport string, opts Options) TLSInfo {
	host, _, _ := net.SplitHostPort(hostport)
	info := TLSInfo{Host: host}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	conn, err := dialer{opts}.DialContext(ctx, "tcp", hostport)
	if err != nil {
		info.Err = describeErr(ctx, err, opts.Timeout)
		return info
	}
	defer conn.Close()
	tc := tls.Client(conn, &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}) //nolint:gosec // the chain is verified by describeChain
	if err := tc.HandshakeContext(ctx); err != nil {
		info.Err = "TLS handshake: " + describeErr(ctx, err, opts.Timeout)
		return info
	}
	describeChain(&info, tc.ConnectionState().PeerCertificates, opts)
	return info
}

// describeChain fills info from the certificates a server sent, in the order
// it sent them.
func describeChain(info *TLSInfo, certs []*x509.Certificate, opts Options) {
	if len(certs) == 0 {
		info.Err = "the server sent no certificate"
		return
	}
	for _, c := range certs {
		info.Chain = append(info.Chain, CertInfo{
			Subject: c.Subject.String(), Issuer: c.Issuer.String(),
			SHA1: Thumbprint(c), NotAfter: c.NotAfter,
		})
	}
	intermediates := x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{DNSName: info.Host, Roots: opts.RootCAs, Intermediates: intermediates})
	info.PubliclyTrusted = err == nil
	if err != nil {
		info.VerifyError = err.Error()
	}
	info.OrderError = chainOrderError(certs)
	info.TopThumbprint = Thumbprint(certs[len(certs)-1])
	if len(opts.Thumbprints) > 0 {
		match := slices.ContainsFunc(opts.Thumbprints, func(t string) bool {
			return normalizeThumbprint(t) == info.TopThumbprint
		})
		info.ThumbprintMatches = &match
	}
}

// chainOrderError checks that each certificate is issued by the next one, as
// IAM requires; "" means the order is right.
func chainOrderError(certs []*x509.Certificate) string {
	for i := 0; i+1 < len(certs); i++ {
		if err := certs[i].CheckSignatureFrom(certs[i+1]); err != nil {
			return fmt.Sprintf("certificate %d (%s) is not issued by certificate %d (%s) that follows it: send the chain in order, leaf first, without extra certificates",
				i+1, certs[i].Subject, i+2, certs[i+1].Subject)
		}
	}
	return ""
}

// normalizeThumbprint accepts thumbprints as people paste them: upper case,
// with colons or spaces.
func normalizeThumbprint(t string) string {
	return strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(t)))
}
