"""Actions used by tests/test_action_server.py: one that works, one that fails, one that holds its thread."""

from rasa_sdk import Action


class ActionEcho(Action):
    def name(self):
        return "action_echo"

    async def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text="ok")
        return []


class ActionBroken(Action):
    def name(self):
        return "action_broken"

    async def run(self, dispatcher, tracker, domain):
        raise KeyError(tracker.latest_message.get("text"))  # an error message holding the resident's words


class ActionHeld(Action):
    """Holds the thread it runs on, as CPU work would, until the file named by the message exists (it
    creates ``<file>.started`` first, so the test knows it runs)."""

    def name(self):
        return "action_held"

    async def run(self, dispatcher, tracker, domain):
        import pathlib
        import time

        gate = pathlib.Path(tracker.latest_message.get("text"))
        pathlib.Path(f"{gate}.started").touch()
        deadline = time.monotonic() + 20
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.01)  # blocking on purpose: the work of an action that does not await
        dispatcher.utter_message(text="released" if gate.exists() else "never released")
        return []
