// The benchmark's baseline: a bare Bolt app (HTTP receiver) answering /ghconnect with an empty
// ack, configured like ghconnect (same signing secret, same Slack API stand-in).
import { App, HTTPReceiver } from "@slack/bolt";

const app = new App({
  receiver: new HTTPReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET as string }),
  token: process.env.SLACK_BOT_TOKEN,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
});
app.command("/ghconnect", async ({ ack }) => ack());
await app.start(Number(process.env.PORT));
process.stdout.write("ready\n");
// Exit normally on SIGTERM (the bench's stop), so --cpu-prof can write its profile.
process.on("SIGTERM", () => process.exit(0));
