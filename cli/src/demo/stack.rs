//! The demo's last part: the same association as CloudFormation makes it from the example template, a stack
//! deployed on the emulator (its role through IAM, its association through the handlers over the handler
//! protocol), a pod of the service account getting the stack's role, and the stack deleted.

use super::{Demo, Expect};
use crate::CliError;
use crate::stack::deploy::{Deployed, Deployment, deploy};
use crate::stack::events::print_outputs;
use crate::style::Style;

const TEMPLATE_PATH: &str = "examples/cloudformation/pod-identity.yaml";
const TEMPLATE: &str = include_str!("../../../examples/cloudformation/pod-identity.yaml");
const STACK: &str = "payments";

impl Demo<'_> {
    pub(super) async fn stack(&self) -> Result<(), CliError> {
        let client = aws_sdk_cloudformation::Client::new(&self.emulator.sdk_config());
        let style = Some(Style::for_stdout());
        println!(
            "▶ STACK deploy {TEMPLATE_PATH} as \"{STACK}\" (`pia stack deploy`: CloudFormation on the emulator, \
             the role through IAM, the association through these handlers)"
        );
        let parameters = [
            ("ClusterName", "demo"),
            ("Namespace", "payments"),
            ("ServiceAccount", "api"),
        ]
        .map(|(key, value)| (key.to_owned(), value.to_owned()));
        let deployed = deploy(
            &client,
            &Deployment {
                stack_name: STACK,
                template_body: TEMPLATE,
                parameters: &parameters,
                tags: &[],
                capabilities: &["CAPABILITY_IAM".to_owned()],
                role_arn: None,
            },
            style,
        )
        .await
        .map_err(|e| CliError::Demo(format!("stack deploy: {e}")))?;
        let Deployed::Executed { stack, failure, .. } = deployed else {
            return Err(CliError::Demo("stack deploy: nothing was deployed".into()));
        };
        let status = stack.stack_status().map(|s| s.as_str()).unwrap_or_default();
        if status != "CREATE_COMPLETE" {
            return Err(CliError::Demo(format!(
                "stack deploy: {status} {}",
                failure.unwrap_or_default()
            )));
        }
        println!("\nStack {STACK} {status}");
        print_outputs(&stack);
        println!();
        let outputs = crate::stack::events::outputs_json(&stack);
        let role = outputs["RoleArn"].as_str().unwrap_or_default().to_owned();

        self.wait_for_propagation().await;
        self.pod("api-6b1d0", Expect::Role(&role)).await?;

        println!("▶ STACK delete {STACK} (`pia stack delete`)");
        let stack_id = stack.stack_id().unwrap_or(STACK);
        let deleted = crate::stack::delete::delete(&client, stack_id, style)
            .await
            .map_err(|e| CliError::Demo(format!("stack delete: {e}")))?;
        let status = deleted.stack.stack_status().map(|s| s.as_str()).unwrap_or_default();
        if status != "DELETE_COMPLETE" {
            return Err(CliError::Demo(format!(
                "stack delete: {status} {}",
                deleted.failure.unwrap_or_default()
            )));
        }
        println!("\nStack {STACK} deleted\n");
        Ok(())
    }
}
