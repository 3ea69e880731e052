export { StrataError, ERROR_CODES, isStrataError, wrapError } from './strata-error';
export type { ErrorCode, StrataErrorOptions } from './strata-error';
