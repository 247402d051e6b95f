"""Verbatim copies of the Python blocks of the Tasks API reference
(shared/seeds/000_84cee5221f5e0769.txt): "Usage Examples -> Python" and "Error Handling".

Do not edit them to make a test pass: test_reference_examples.py checks that they equal the
reference and runs them, changing only the API key, the base URL and the example task id.
"""

USAGE_EXAMPLE = """\
from torale import ToraleClient

client = ToraleClient(api_key="sk_...")

# Create task
task = client.tasks.create(
    name="iPhone Release Monitor",
    search_query="When is the next iPhone being released?",
    condition_description="A specific date has been announced",
    schedule="0 9 * * *",
    notify_behavior="once"
)

# Preview before creating
preview = client.tasks.preview(
    search_query="When is the next iPhone release?",
    condition_description="A specific date has been announced"
)
print(f"Condition met: {preview.condition_met}")
print(f"Answer: {preview.answer}")

# List tasks
tasks = client.tasks.list(active=True)
for task in tasks:
    print(f"{task.name}: {task.state}")

# Get specific task
task = client.tasks.get("550e8400-e29b-41d4-a716-446655440000")

# Update task
task = client.tasks.update(
    "550e8400-e29b-41d4-a716-446655440000",
    schedule="0 */6 * * *"
)

# Delete task
client.tasks.delete("550e8400-e29b-41d4-a716-446655440000")

# Execute manually
execution_id = client.tasks.execute("550e8400-e29b-41d4-a716-446655440000")
"""

ERROR_HANDLING_EXAMPLE = """\
from torale import ToraleClient
from torale.exceptions import ValidationError, NotFoundError

client = ToraleClient(api_key="sk_...")

try:
    task = client.tasks.create(
        search_query="...",
        condition_description="...",
        schedule="invalid"  # Bad cron
    )
except ValidationError as e:
    print(f"Validation failed: {e.detail}")
except NotFoundError:
    print("Task not found")
"""

EXAMPLE_API_KEY = 'api_key="sk_..."'
EXAMPLE_TASK_ID = "550e8400-e29b-41d4-a716-446655440000"
