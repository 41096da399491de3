// Checks Kubernetes objects against the API's OpenAPI schemas for their kind: kubernetes-models
// (Kubernetes v1.36.0) for the built-in kinds, @kubernetes-models/prometheus-operator for ServiceMonitor.
// stdin: [object, ...]; stdout: [{"apiVersion", "kind", "name", "errors": ["<path> <message>", ...]}].
const packages = ["kubernetes-models", "@kubernetes-models/prometheus-operator"];

async function model(apiVersion, kind) {
  // "apps/v1" -> apps/v1/<Kind>; "v1" (the core group) -> v1/<Kind>.
  for (const pkg of packages) {
    try {
      const module = await import(`${pkg}/${apiVersion}/${kind}`);
      if (module[kind]) return module[kind];
    } catch (e) {
      if (e.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED" && e.code !== "ERR_MODULE_NOT_FOUND") throw e;
    }
  }
  return null;
}

const objects = JSON.parse(await new Response(process.stdin).text());
const results = [];
for (const object of objects) {
  const result = { apiVersion: object?.apiVersion, kind: object?.kind, name: object?.metadata?.name, errors: [] };
  const Model = typeof object?.apiVersion === "string" && typeof object?.kind === "string" ? await model(object.apiVersion, object.kind) : null;
  if (!Model) {
    result.errors.push(`no schema for ${object?.apiVersion} ${object?.kind}`);
  } else {
    try {
      new Model(object).validate();
    } catch (e) {
      // ajv's errors, one per violation: "data/spec/replicas must be integer".
      result.errors.push(...(e.errors?.map(err => `${err.instancePath || "/"} ${err.message}${err.params ? " " + JSON.stringify(err.params) : ""}`) ?? [e.message]));
    }
  }
  results.push(result);
}
process.stdout.write(JSON.stringify(results));
