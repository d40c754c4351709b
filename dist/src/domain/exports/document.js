export {};
//# sourceMappingURL=document.js.map