export { StrataError, ERROR_CODES, isStrataError, noSpaceCause, wrapError } from './strata-error';
export type { ErrorCode, StrataErrorOptions } from './strata-error';
