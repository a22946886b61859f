export * from './types';
export * from './messages';
export * from './names';
export * from './authorization';
