export class DeliveryError extends Error {
    retryAfterMs;
    permanent;
    constructor(message, retryAfterMs, permanent = false) {
        super(message);
        this.retryAfterMs = retryAfterMs;
        this.permanent = permanent;
        this.name = 'DeliveryError';
    }
}
//# sourceMappingURL=port.js.map