import type { LineRange, RuleName, Warning } from './types';

/** BuildKit's build-check descriptions (frontend/dockerfile/linter/ruleset.go). */
export const RULE_DESCRIPTIONS: Readonly<Record<RuleName, string>> = {
  StageNameCasing: 'Stage names should be lowercase',
  FromAsCasing: "The 'as' keyword should match the case of the 'from' keyword",
  NoEmptyContinuation: 'Empty continuation lines will become errors in a future release',
  ConsistentInstructionCasing: 'All commands within the Dockerfile should use the same casing (either upper or lower)',
  DuplicateStageName: 'Stage names should be unique',
  ReservedStageName: 'Reserved words should not be used as stage names',
  JSONArgsRecommended: 'JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals',
  MaintainerDeprecated: 'The MAINTAINER instruction is deprecated, use a label instead to define an image author',
  UndefinedArgInFrom: 'FROM command must use declared ARGs',
  WorkdirRelativePath:
    'Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes',
  UndefinedVar: 'Variables should be defined before their use',
  MultipleInstructionsDisallowed: 'Multiple instructions of the same type should not be used in the same stage',
  LegacyKeyValueFormat: 'Legacy key/value format with whitespace separator should not be used',
  ExposeProtoCasing: 'Protocol in EXPOSE instruction should be lowercase',
  ExposeInvalidFormat:
    'IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release',
  SecretsUsedInArgOrEnv: 'Sensitive data should not be used in the ARG or ENV commands',
  InvalidDefaultArgInFrom: 'Default value for global ARG results in an empty or invalid base image name',
  RedundantTargetPlatform: 'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior',
  FromPlatformFlagConstDisallowed: 'FROM --platform flag should not use a constant value',
};

/** `StageNameCasing` → `stage-name-casing` (docs.docker.com/go/dockerfile/rule/<name>/). */
function kebab(rule: string): string {
  return rule
    .replace(/JSON/g, 'Json')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
}

export function ruleWarning(rule: RuleName, message: string, range: LineRange): Warning {
  return {
    rule,
    message,
    description: RULE_DESCRIPTIONS[rule],
    url: `https://docs.docker.com/go/dockerfile/rule/${kebab(rule)}/`,
    range: { ...range },
  };
}
