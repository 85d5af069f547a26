"""The tutorial's protected view, and an unauthenticated one to compare it with."""
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


# ANCHOR: hello
class HelloView(APIView):
    permission_classes = (IsAuthenticated,)

    def get(self, request):
        return Response({"message": "Hello, World!"})
# ANCHOR_END: hello


class PingView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get(self, request):
        return Response({"message": "pong"})
