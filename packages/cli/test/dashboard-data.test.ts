import { describe, expect, it } from "vitest";
import { sumSamples } from "../src/dashboard/prometheus-text.ts";

describe("the dashboard's data", () => {
  it('sums a metric over its label sets, skipping the ones asked, with } and \\" in values', () => {
    const text = [
      "# HELP dapr_http_server_request_count Number of HTTP requests started in server.",
      "# TYPE dapr_http_server_request_count counter",
      'dapr_http_server_request_count{app_id="a",method="GET",path="/v1.0/metadata"} 40',
      'dapr_http_server_request_count{app_id="a",method="POST",path="/v1.0/state/:store"} 3',
      'dapr_http_server_request_count{app_id="a",method="POST",path="/x}\\"y"} 2 1700000000000',
      "dapr_http_server_request_count_other 100",
      'dapr_component_pubsub_egress_count{topic="orders"} 7',
    ].join("\n");
    expect(
      sumSamples(
        text,
        ["dapr_http_server_request_count", "dapr_component_pubsub_egress_count", "absent"],
        (labels) => labels.path === "/v1.0/metadata",
      ),
    ).toEqual({
      dapr_http_server_request_count: 5,
      dapr_component_pubsub_egress_count: 7,
      absent: 0,
    });
  });
});
