//! `rollouts` on Lambda: operations by direct invocation, work from its SQS queue, audit
//! results from the bus, and the sweep from its schedule.

wxopen_lambda::lambda_main!(rollouts::run);
