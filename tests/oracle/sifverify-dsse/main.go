// sifverify-dsse: the reference SIF signature verifier of sif >= 2.10 (sylabs/sif
// pkg/integrity, what Apptainer >= 1.2 runs), with DSSE signatures checked against
// PEM public keys (as `apptainer verify --key KEY.pem`) and OpenPGP ones against an
// armored keyring, for differential tests. It only calls the public API of
// github.com/sylabs/sif/v2 (BSD-3-Clause, Copyright (c) Sylabs Inc.),
// github.com/sigstore/sigstore (Apache-2.0) and github.com/ProtonMail/go-crypto
// (BSD-3-Clause).
//
//	sifverify-dsse --batch KEYS < LINES
//
// KEYS is a comma-separated list of files: *.asc (an armored OpenPGP keyring) or
// *.pem (a PEM public key, or a certificate whose public key is used as it is, as
// `apptainer verify --certificate` does once the chain is checked). Standard input
// holds lines "MODE<TAB>IMAGE" (MODE: default, legacy or legacy-all); one line is
// written per line read: "ok" or "fail<TAB>reason" (a panic of the library is a
// failure too).
package main

import (
	"bufio"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sylabs/sif/v2/pkg/integrity"
	"github.com/sylabs/sif/v2/pkg/sif"
)

func keyOpts(list string) []integrity.VerifierOpt {
	var opts []integrity.VerifierOpt
	for _, path := range strings.Split(list, ",") {
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if strings.HasSuffix(path, ".asc") {
			kr, err := openpgp.ReadArmoredKeyRing(strings.NewReader(string(data)))
			if err != nil {
				fmt.Fprintln(os.Stderr, "keyring:", err)
				os.Exit(2)
			}
			opts = append(opts, integrity.OptVerifyWithKeyRing(kr))
			continue
		}
		var pub crypto.PublicKey
		if block, _ := pem.Decode(data); block != nil && block.Type == "CERTIFICATE" {
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				fmt.Fprintln(os.Stderr, "certificate:", err)
				os.Exit(2)
			}
			pub = cert.PublicKey
		} else {
			pub, err = cryptoutils.UnmarshalPEMToPublicKey(data)
			if err != nil {
				fmt.Fprintln(os.Stderr, "key:", err)
				os.Exit(2)
			}
		}
		v, err := signature.LoadVerifier(pub, crypto.SHA256)
		if err != nil {
			fmt.Fprintln(os.Stderr, "verifier:", err)
			os.Exit(2)
		}
		opts = append(opts, integrity.OptVerifyWithVerifier(v))
	}
	return opts
}

func verify(path string, opts []integrity.VerifierOpt) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	f, err := sif.LoadContainerFromPath(path, sif.OptLoadWithFlag(os.O_RDONLY))
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer f.UnloadContainer()
	v, err := integrity.NewVerifier(f, opts...)
	if err != nil {
		return fmt.Errorf("verifier: %w", err)
	}
	if err := v.Verify(); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	return nil
}

func main() {
	if len(os.Args) != 3 || os.Args[1] != "--batch" {
		fmt.Fprintln(os.Stderr, "usage: sifverify-dsse --batch KEYS < lines of MODE<TAB>IMAGE")
		os.Exit(2)
	}
	keys := keyOpts(os.Args[2])
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024), 1024*1024)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		mode, path, found := strings.Cut(in.Text(), "\t")
		if !found {
			fmt.Fprintln(out, "fail\tbad input line")
			continue
		}
		opts := append([]integrity.VerifierOpt{}, keys...)
		switch mode {
		case "default":
		case "legacy":
			opts = append(opts, integrity.OptVerifyLegacy())
		case "legacy-all":
			opts = append(opts, integrity.OptVerifyLegacyAll())
		default:
			fmt.Fprintln(out, "fail\tunknown mode", mode)
			continue
		}
		if err := verify(path, opts); err != nil {
			fmt.Fprintf(out, "fail\t%s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Fprintln(out, "ok")
		}
		out.Flush()
	}
}
