export * from './player-actions';
