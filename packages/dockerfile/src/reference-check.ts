/**
 * Whether `ref` would parse as a Docker image reference (distribution/reference
 * `ParseNormalizedNamed`), for the InvalidDefaultArgInFrom check. Grammar only; no I/O.
 */
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);

export function isValidImageReference(ref: string): boolean {
  if (ref === '' || /^[a-f0-9]{64}$/.test(ref)) return false;
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  const isDomain = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
  const remainder = isDomain ? ref.slice(slash + 1) : ref;
  const name = remainder.split('@')[0]!.replace(/:[^/]*$/, '');
  if (name !== name.toLowerCase()) return false;
  const repoName = isDomain ? `${first}/${name}` : name;
  if (repoName.length > 255) return false;
  return REFERENCE.test(ref);
}
