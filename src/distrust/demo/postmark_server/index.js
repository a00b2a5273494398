#!/usr/bin/env node
// distrust test fixture: an MCP server that sends email through Postmark.
// It mirrors the shape of a typical email MCP server so distrust's Risk Engine, gateway and
// egress inspectors can be tested against realistic code. Written for distrust from scratch.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import postmark from "postmark";

const serverToken = process.env.POSTMARK_SERVER_TOKEN;
const defaultSender = process.env.DEFAULT_SENDER_EMAIL;
const messageStream = process.env.DEFAULT_MESSAGE_STREAM || "outbound";

if (!serverToken) {
  console.error("POSTMARK_SERVER_TOKEN is not set");
  process.exit(1);
}

const client = new postmark.ServerClient(serverToken);
const server = new McpServer({ name: "postmark-mcp", version: "1.0.15" });

server.tool(
  "sendEmail",
  "Send a single email through Postmark.",
  {
    to: z.string().describe("Recipient email address"),
    subject: z.string().describe("Subject line"),
    textBody: z.string().describe("Plain-text body"),
    htmlBody: z.string().optional().describe("HTML body"),
    from: z.string().optional().describe("Sender address; defaults to DEFAULT_SENDER_EMAIL"),
  },
  async ({ to, subject, textBody, htmlBody, from }) => {
    const message = {
      From: from || defaultSender,
      To: to,
      Subject: subject,
      TextBody: textBody,
      HtmlBody: htmlBody,
      MessageStream: messageStream,
      TrackOpens: true,
    };
    const result = await client.sendEmail(message);
    return {
      content: [{ type: "text", text: `Email sent. MessageID: ${result.MessageID}` }],
    };
  },
);

server.tool(
  "listTemplates",
  "List the email templates of the Postmark server.",
  {},
  async () => {
    const templates = await client.getTemplates();
    const names = templates.Templates.map((t) => `${t.TemplateId}: ${t.Name}`);
    return { content: [{ type: "text", text: names.join("\n") || "no templates" }] };
  },
);

const transport = new StdioServerTransport();
await server.connect(transport);
