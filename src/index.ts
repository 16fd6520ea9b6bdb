// Package entry of `berth`: the SDK.
export * from './client/index.js';
