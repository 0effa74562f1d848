"""moto's DynamoDB API (moto.server's WSGI app) on 0.0.0.0:8000, in memory, any credentials.

Single-threaded on purpose: moto's backends are not safe under werkzeug's threaded server (the
full state suite fails against `moto_server`), so requests are served one at a time.

  outrig-moto-dynamodb                serve (MOTO_HOST / MOTO_PORT override 0.0.0.0 / 8000)
  outrig-moto-dynamodb --self-test    run the DynamoDB calls the tests rely on in-process and exit
  outrig-moto-dynamodb --self-test --list-files
                                      ... and print the files of every module it imported
"""

import json
import os
import signal
import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple
from werkzeug.test import Client

TARGET = "DynamoDB_20120810."
AUTH = (
    "AWS4-HMAC-SHA256 Credential=outrig/20250101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64
)


def call(client, action, body):
    response = client.post(
        "/",
        data=json.dumps(body),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": TARGET + action,
            "X-Amz-Date": "20250101T000000Z",
            "Authorization": AUTH,
        },
    )
    return response.status_code, json.loads(response.get_data(as_text=True) or "{}")


def expect(client, action, body, status=200):
    code, answer = call(client, action, body)
    if code != status:
        raise SystemExit(f"self-test: {action} answered {code}, expected {status}: {answer}")
    return answer


def self_test(app):
    """The operations the state store and its tests use, including the ones dynalite lacks."""
    client = Client(app)
    table = "outrig-self-test"
    expect(client, "ListTables", {})
    expect(client, "CreateTable", {
        "TableName": table,
        "KeySchema": [{"AttributeName": "key", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "key", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    })
    expect(client, "DescribeTable", {"TableName": table})
    expect(client, "UpdateTimeToLive", {
        "TableName": table,
        "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
    })
    ttl = expect(client, "DescribeTimeToLive", {"TableName": table})
    assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED", ttl
    item = {"key": {"S": "a"}, "value": {"B": "AQI="}, "etag": {"S": "1"}, "expiresAt": {"N": "1"}}
    expect(client, "PutItem", {
        "TableName": table, "Item": item,
        "ConditionExpression": "attribute_not_exists(#pk) OR #ttl <= :now",
        "ExpressionAttributeNames": {"#pk": "key", "#ttl": "expiresAt"},
        "ExpressionAttributeValues": {":now": {"N": "2"}},
    })
    expect(client, "GetItem", {"TableName": table, "Key": {"key": {"S": "a"}}, "ConsistentRead": True})
    # The store's probe: anything but UnknownOperationException means "implemented" (moto accepts it).
    code, probe = call(client, "TransactWriteItems", {"TransactItems": []})
    assert "UnknownOperation" not in probe.get("__type", ""), probe
    expect(client, "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": table, "Item": {"key": {"S": "b"}, "etag": {"S": "2"}},
                 "ConditionExpression": "attribute_not_exists(#pk)",
                 "ExpressionAttributeNames": {"#pk": "key"}}},
        {"Delete": {"TableName": table, "Key": {"key": {"S": "a"}},
                    "ConditionExpression": "#etag = :etag",
                    "ExpressionAttributeNames": {"#etag": "etag"},
                    "ExpressionAttributeValues": {":etag": {"S": "1"}}}},
    ]})
    cancelled = expect(client, "TransactWriteItems", {"TransactItems": [
        {"Delete": {"TableName": table, "Key": {"key": {"S": "b"}},
                    "ConditionExpression": "#etag = :etag",
                    "ExpressionAttributeNames": {"#etag": "etag"},
                    "ExpressionAttributeValues": {":etag": {"S": "stale"}}}},
    ]}, status=400)
    assert "TransactionCanceledException" in cancelled.get("__type", ""), cancelled
    expect(client, "BatchWriteItem", {"RequestItems": {table: [
        {"PutRequest": {"Item": {"key": {"S": "c"}, "etag": {"S": "3"}}}},
        {"DeleteRequest": {"Key": {"key": {"S": "b"}}}},
    ]}})
    got = expect(client, "BatchGetItem", {"RequestItems": {table: {"Keys": [{"key": {"S": "c"}}]}}})
    assert len(got["Responses"][table]) == 1, got
    expect(client, "TransactGetItems", {"TransactItems": [{"Get": {"TableName": table, "Key": {"key": {"S": "c"}}}}]})
    expect(client, "Scan", {"TableName": table})
    expect(client, "DeleteTable", {"TableName": table})


def main(argv):
    app = DomainDispatcherApplication(create_backend_app)
    if "--self-test" in argv:
        self_test(app)
        if "--list-files" in argv:
            for module in list(sys.modules.values()):
                path = getattr(module, "__file__", None)
                if path:
                    print(os.path.realpath(path))
        else:
            print("self-test: moto DynamoDB OK")
        return
    # Import the DynamoDB backend before listening, so the first request is not the slow one.
    call(Client(app), "ListTables", {})
    # Stop at once on SIGTERM/SIGINT (as PID 1 too): everything is in memory, and a clean interpreter
    # shutdown would wait for threads moto may have started.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: os._exit(0))
    run_simple(
        os.environ.get("MOTO_HOST", "0.0.0.0"),
        int(os.environ.get("MOTO_PORT", "8000")),
        app,
        threaded=False,
        use_reloader=False,
        use_debugger=False,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
