//! `notifier` on Lambda: the table's stream, filtered to history items, becomes EventBridge
//! events; failed records are reported for Lambda to deliver again.

wxopen_lambda::lambda_main!(notifier::run);
