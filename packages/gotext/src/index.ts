export { goQuote, goQuoteList } from './quote';
export { goPathMatch, hasGoWildcard } from './path-match';
