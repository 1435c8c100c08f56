package image

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"time"
)

// SPDXMediaType is the media type of the SBOM layer and the artifact type of its manifest.
const SPDXMediaType = "application/spdx+json"

// The parts of an SPDX 2.3 JSON document the SBOM fills in.
type (
	spdxDocument struct {
		SPDXVersion       string             `json:"spdxVersion"`
		DataLicense       string             `json:"dataLicense"`
		SPDXID            string             `json:"SPDXID"`
		Name              string             `json:"name"`
		DocumentNamespace string             `json:"documentNamespace"`
		CreationInfo      spdxCreationInfo   `json:"creationInfo"`
		DocumentDescribes []string           `json:"documentDescribes"`
		Packages          []spdxPackage      `json:"packages"`
		Relationships     []spdxRelationship `json:"relationships"`
	}
	spdxCreationInfo struct {
		Created  string   `json:"created"`
		Creators []string `json:"creators"`
	}
	spdxPackage struct {
		Name                  string            `json:"name"`
		SPDXID                string            `json:"SPDXID"`
		VersionInfo           string            `json:"versionInfo,omitempty"`
		Supplier              string            `json:"supplier"`
		DownloadLocation      string            `json:"downloadLocation"`
		FilesAnalyzed         bool              `json:"filesAnalyzed"`
		Checksums             []spdxChecksum    `json:"checksums,omitempty"`
		LicenseConcluded      string            `json:"licenseConcluded"`
		LicenseDeclared       string            `json:"licenseDeclared"`
		CopyrightText         string            `json:"copyrightText"`
		PrimaryPackagePurpose string            `json:"primaryPackagePurpose,omitempty"`
		Comment               string            `json:"comment,omitempty"`
		ExternalRefs          []spdxExternalRef `json:"externalRefs,omitempty"`
	}
	spdxChecksum struct {
		Algorithm     string `json:"algorithm"`
		ChecksumValue string `json:"checksumValue"`
	}
	spdxExternalRef struct {
		ReferenceCategory string `json:"referenceCategory"`
		ReferenceType     string `json:"referenceType"`
		ReferenceLocator  string `json:"referenceLocator"`
	}
	spdxRelationship struct {
		SPDXElementID      string `json:"spdxElementId"`
		RelationshipType   string `json:"relationshipType"`
		RelatedSPDXElement string `json:"relatedSpdxElement"`
	}
)

// sbomInput is what one platform image's SBOM describes.
type sbomInput struct {
	// image is the image's name and version, platform its os/arch.
	image, version, platform string
	// binary is the compiled program; its Go build information lists the modules linked in.
	binary string
	// inImage is where the binary lives in the image.
	inImage string
	// created is the document's creation time (the build's fixed timestamp).
	created time.Time
	// source is the repository URL, the root package's download location.
	source string
	// caModule is the module the base layer's CA bundle comes from.
	caModule debug.Module
}

// SBOM returns an SPDX 2.3 JSON document for one platform image: the program (its main module at
// the image's version, with the binary's SHA-256), the Go standard library and every module the
// binary's build information lists, each with a purl, plus the module the CA bundle comes from.
// Licenses are NOASSERTION: build information does not carry them.
func sbom(in sbomInput) ([]byte, error) {
	bi, err := buildinfo.ReadFile(in.binary)
	if err != nil {
		return nil, fmt.Errorf("reading the Go build information of %s: %w", in.binary, err)
	}
	data, err := os.ReadFile(in.binary)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", in.binary, err)
	}
	sum := sha256.Sum256(data)
	root := spdxPackage{
		Name: bi.Path, SPDXID: "SPDXRef-Package-main", VersionInfo: in.version, Supplier: "NOASSERTION",
		DownloadLocation: orNoAssertion(in.source), PrimaryPackagePurpose: "APPLICATION",
		LicenseConcluded: "NOASSERTION", LicenseDeclared: "NOASSERTION", CopyrightText: "NOASSERTION",
		Checksums:    []spdxChecksum{{Algorithm: "SHA256", ChecksumValue: hex.EncodeToString(sum[:])}},
		Comment:      fmt.Sprintf("%s in the image, built by %s with %s", in.inImage, bi.GoVersion, buildSettings(bi)),
		ExternalRefs: []spdxExternalRef{purl(bi.Main.Path, in.version)},
	}
	packages := []spdxPackage{root, modulePackage("stdlib", bi.GoVersion, "SPDXRef-Package-stdlib")}
	rels := []spdxRelationship{
		{SPDXElementID: "SPDXRef-DOCUMENT", RelationshipType: "DESCRIBES", RelatedSPDXElement: root.SPDXID},
		{SPDXElementID: root.SPDXID, RelationshipType: "DEPENDS_ON", RelatedSPDXElement: "SPDXRef-Package-stdlib"},
	}
	deps := make([]debug.Module, 0, len(bi.Deps))
	for _, d := range bi.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		deps = append(deps, *d)
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].Path < deps[j].Path })
	for i, d := range deps {
		id := fmt.Sprintf("SPDXRef-Package-go-%d", i+1)
		packages = append(packages, modulePackage(d.Path, d.Version, id))
		rels = append(rels, spdxRelationship{SPDXElementID: root.SPDXID, RelationshipType: "DEPENDS_ON", RelatedSPDXElement: id})
	}
	if in.caModule.Path != "" {
		ca := modulePackage(in.caModule.Path, in.caModule.Version, "SPDXRef-Package-ca-certificates")
		ca.Comment = "/" + CABundlePath + " in the image is this module's root certificates"
		packages = append(packages, ca)
		rels = append(rels, spdxRelationship{SPDXElementID: "SPDXRef-DOCUMENT", RelationshipType: "DESCRIBES", RelatedSPDXElement: ca.SPDXID})
	}
	doc := spdxDocument{
		SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT",
		Name: fmt.Sprintf("%s %s %s", in.image, in.version, in.platform),
		DocumentNamespace: fmt.Sprintf("%s/spdx/%s/%s/%s/%s", strings.TrimSuffix(orNoAssertion(in.source), "/"),
			in.image, in.version, in.platform, hex.EncodeToString(sum[:])),
		CreationInfo:      spdxCreationInfo{Created: in.created.UTC().Format(time.RFC3339), Creators: []string{"Tool: capstan-imagebuild"}},
		DocumentDescribes: []string{root.SPDXID},
		Packages:          packages,
		Relationships:     rels,
	}
	if in.caModule.Path != "" {
		doc.DocumentDescribes = append(doc.DocumentDescribes, "SPDXRef-Package-ca-certificates")
	}
	return json.MarshalIndent(doc, "", "  ")
}

// modulePackage is one Go module as an SPDX package with its purl.
func modulePackage(path, version, id string) spdxPackage {
	return spdxPackage{
		Name: path, SPDXID: id, VersionInfo: version, Supplier: "NOASSERTION", DownloadLocation: "NOASSERTION",
		LicenseConcluded: "NOASSERTION", LicenseDeclared: "NOASSERTION", CopyrightText: "NOASSERTION",
		PrimaryPackagePurpose: "LIBRARY", ExternalRefs: []spdxExternalRef{purl(path, version)},
	}
}

// purlUnsafe is what a purl's name segments may not hold unescaped.
var purlUnsafe = regexp.MustCompile(`[^A-Za-z0-9.\-_~/]`)

// purl is the package URL of a Go module (pkg:golang/<path>@<version>). The module path keeps its
// case, as Go module paths are case-sensitive.
func purl(path, version string) spdxExternalRef {
	name := purlUnsafe.ReplaceAllStringFunc(path, func(s string) string {
		return fmt.Sprintf("%%%02X", s[0])
	})
	locator := "pkg:golang/" + name
	if version != "" {
		locator += "@" + strings.ReplaceAll(version, "+", "%2B")
	}
	return spdxExternalRef{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: locator}
}

// buildSettings is the build settings that decide what the binary is, in a stable order.
func buildSettings(bi *debug.BuildInfo) string {
	var parts []string
	for _, s := range bi.Settings {
		switch s.Key {
		case "-trimpath", "CGO_ENABLED", "GOOS", "GOARCH", "GOAMD64", "GOARM64", "-tags":
			parts = append(parts, s.Key+"="+s.Value)
		}
	}
	return strings.Join(parts, " ")
}

func orNoAssertion(s string) string {
	if s == "" {
		return "NOASSERTION"
	}
	return s
}
