// Package helmchart tests Capstan's own Helm chart, charts/capstan: that helm v4.3.1 and
// `capstan template` render it byte for byte alike, that `helm lint` and `capstan lint` pass, that
// its values schema rejects bad values, that its CRDs, manager rules and alert rules are the
// generated ones of config/, and that its default values grant exactly the rights config/default
// grants. Installing it (with helm and as a Capstan Release) is an end-to-end story in test/e2e.
package helmchart
