// Validates catalog entities with Backstage's own rules (@backstage/catalog-model): the
// envelope and metadata policies the catalog applies on ingestion, then the schema of each
// kind. Reads a JSON array of {source, entity} on stdin (YAML parsed and $text placeholders
// resolved by the caller, as the catalog's processors do) and prints one JSON object:
// {"errors": [{"source", "name", "error"}], "refs": {"<entity ref>": ["<relation target ref>"]}}.
'use strict';

const model = require('@backstage/catalog-model');

const policies = model.EntityPolicies.allOf([
  new model.DefaultNamespaceEntityPolicy(),
  new model.NoForeignRootFieldsEntityPolicy(),
  new model.FieldFormatEntityPolicy(),
  new model.SchemaValidEntityPolicy(),
]);

const kinds = [
  model.componentEntityV1alpha1Validator,
  model.apiEntityV1alpha1Validator,
  model.resourceEntityV1alpha1Validator,
  model.systemEntityV1alpha1Validator,
  model.domainEntityV1alpha1Validator,
  model.groupEntityV1alpha1Validator,
  model.locationEntityV1alpha1Validator,
];

// Relation fields by kind, and the kind a bare reference means there.
const relations = {
  owner: 'group',
  system: 'system',
  domain: 'domain',
  providesApis: 'api',
  consumesApis: 'api',
  dependsOn: 'component',
  parent: 'group',
  children: 'group',
};

async function validate(entity) {
  const enforced = await policies.enforce(entity);
  for (const validator of kinds) {
    if (await validator.check(enforced)) {
      return enforced;
    }
  }
  throw new Error(`no validator knows ${entity.apiVersion} ${entity.kind}`);
}

function targets(entity) {
  const found = [];
  for (const [field, defaultKind] of Object.entries(relations)) {
    const value = (entity.spec || {})[field];
    for (const ref of [].concat(value || [])) {
      found.push(model.stringifyEntityRef(model.parseEntityRef(ref, { defaultKind, defaultNamespace: 'default' })));
    }
  }
  return found;
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const errors = [];
  const refs = {};
  for (const { source, entity } of JSON.parse(input)) {
    try {
      const valid = await validate(entity);
      refs[model.stringifyEntityRef(valid)] = targets(valid);
    } catch (error) {
      errors.push({ source, name: (entity.metadata || {}).name, error: String(error.message || error) });
    }
  }
  process.stdout.write(JSON.stringify({ errors, refs }));
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
