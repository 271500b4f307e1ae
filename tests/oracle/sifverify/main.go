// sifverify: the reference SIF signature verifier (sylabs/sif pkg/integrity, the code
// Apptainer's `verify` runs) as a command, for differential tests.
//
// Copied from the team's tool (../shared/tools/sifverify) and extended with a batch
// mode; it only calls the public API of github.com/sylabs/sif/v2 (BSD-3-Clause,
// Copyright (c) Sylabs Inc.) and github.com/ProtonMail/go-crypto (BSD-3-Clause).
//
//	sifverify [--legacy | --legacy-all | --legacy-object ID] KEYRING.asc IMAGE.sif
//	sifverify --batch KEYRING.asc < LINES
//
// Exit 0 and "verified" when every object group is signed by a key of the keyring
// and nothing changed since; exit 1 with the reason on stderr otherwise; 2 on bad use.
// The --legacy options verify legacy (SIFHASH) signatures instead, as
// `apptainer verify --legacy-insecure` does: of each object group (--legacy), of every
// object in a group (--legacy-all, as with --all), or of one object (--legacy-object).
//
// --batch reads lines "MODE<TAB>IMAGE" (MODE: default, legacy or legacy-all) from
// standard input and writes one line per input line: "ok" or "fail<TAB>reason" (a
// panic of the library is a failure too), so that one process verifies many images.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/sylabs/sif/v2/pkg/integrity"
	"github.com/sylabs/sif/v2/pkg/sif"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: sifverify [--legacy | --legacy-all | --legacy-object ID] KEYRING.asc IMAGE.sif")
	fmt.Fprintln(os.Stderr, "       sifverify --batch KEYRING.asc < lines of MODE<TAB>IMAGE")
	os.Exit(2)
}

func keyring(path string) openpgp.EntityList {
	kf, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer kf.Close()
	kr, err := openpgp.ReadArmoredKeyRing(kf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "keyring:", err)
		os.Exit(2)
	}
	return kr
}

// verify returns nil when the image verifies, else why not (a panic included).
func verify(kr openpgp.EntityList, path string, opts []integrity.VerifierOpt) (err error) {
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
	v, err := integrity.NewVerifier(f, append(opts, integrity.OptVerifyWithKeyRing(kr))...)
	if err != nil {
		return fmt.Errorf("verifier: %w", err)
	}
	if err := v.Verify(); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	return nil
}

func batch(kr openpgp.EntityList) {
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
		var opts []integrity.VerifierOpt
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
		if err := verify(kr, path, opts); err != nil {
			fmt.Fprintf(out, "fail\t%s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Fprintln(out, "ok")
		}
		out.Flush()
	}
}

func main() {
	args := os.Args[1:]
	if len(args) == 2 && args[0] == "--batch" {
		batch(keyring(args[1]))
		return
	}
	var opts []integrity.VerifierOpt
	if len(args) > 0 {
		switch args[0] {
		case "--legacy":
			opts = append(opts, integrity.OptVerifyLegacy())
			args = args[1:]
		case "--legacy-all":
			opts = append(opts, integrity.OptVerifyLegacyAll())
			args = args[1:]
		case "--legacy-object":
			if len(args) < 2 {
				usage()
			}
			id, err := strconv.ParseUint(args[1], 10, 32)
			if err != nil {
				usage()
			}
			opts = append(opts, integrity.OptVerifyLegacy(), integrity.OptVerifyObject(uint32(id)))
			args = args[2:]
		}
	}
	if len(args) != 2 {
		usage()
	}
	if err := verify(keyring(args[0]), args[1], opts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("verified")
}
