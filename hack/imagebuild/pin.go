package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

// pinKustomization rewrites the `images:` entry whose name is imageName in the kustomization
// file (adding the list or the entry if missing) to newName@digest: newName and digest set, any
// newTag removed, comments and the rest of the file kept.
func pinKustomization(file, imageName, newName, digest string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading the kustomization: %w", err)
	}
	out, err := pin(data, imageName, newName, digest)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return os.WriteFile(file, out, 0o644)
}

// pin is pinKustomization on the file's bytes.
func pin(data []byte, imageName, newName, digest string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing the kustomization: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("the kustomization is not a YAML mapping")
	}
	images := value(doc.Content[0], "images")
	if images == nil {
		images = &yaml.Node{Kind: yaml.SequenceNode}
		doc.Content[0].Content = append(doc.Content[0].Content, scalar("images"), images)
	}
	if images.Kind != yaml.SequenceNode {
		return nil, errors.New("images: is not a list")
	}
	var entry *yaml.Node
	for _, e := range images.Content {
		if n := value(e, "name"); n != nil && n.Value == imageName {
			entry = e
		}
	}
	if entry == nil {
		entry = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalar("name"), scalar(imageName)}}
		images.Content = append(images.Content, entry)
	}
	set(entry, "newName", newName)
	set(entry, "digest", digest)
	remove(entry, "newTag")
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	enc.CompactSeqIndent() // "- item" under its key, as kubebuilder and kustomize write it
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("writing the kustomization: %w", err)
	}
	return buf.Bytes(), nil
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// value is the value of key in the mapping m, nil if m is not a mapping or lacks the key.
func value(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func set(m *yaml.Node, key, v string) {
	if n := value(m, key); n != nil {
		n.Kind, n.Tag, n.Value, n.Style = yaml.ScalarNode, "!!str", v, 0
		return
	}
	m.Content = append(m.Content, scalar(key), scalar(v))
}

func remove(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}
