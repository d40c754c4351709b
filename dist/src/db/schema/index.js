export * from './people.js';
export * from './scope.js';
export * from './suppliers.js';
export * from './risks.js';
export * from './controls.js';
export * from './evidence.js';
export * from './policies.js';
export * from './poam.js';
export * from './system.js';
export * from './scheduler.js';
export * from './approvals.js';
//# sourceMappingURL=index.js.map