//! What a failed AWS call tells a user: the innermost error of its chain ("Connection refused (os error 111)"),
//! not the SDK's outermost words ("dispatch failure") nor its debug dump of every layer.

pub fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
