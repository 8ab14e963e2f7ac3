export * from './player-actions';
export * from './game';
