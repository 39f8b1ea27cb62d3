// Checks custom resources (JSON documents on stdin, one array) against their CRDs' schemas,
// the way the API server would: the deploy tests run it on the chart's ServiceMonitor.
// Exit 0: all valid; exit 1: the first invalid one, with the field, on stderr.
import { readFileSync } from "node:fs";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";

const MODELS = { "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor };

const documents = JSON.parse(readFileSync(0, "utf8"));
for (const document of documents) {
  const Model = MODELS[`${document.apiVersion}/${document.kind}`];
  if (Model === undefined) {
    process.stderr.write(`no schema for ${document.apiVersion} ${document.kind}\n`);
    process.exit(1);
  }
  try {
    new Model(document).validate();
  } catch (error) {
    process.stderr.write(`${document.kind} ${document.metadata?.name}: ${error.message}\n`);
    process.exit(1);
  }
}
