from django import template

from rathaus.core.activities import activity_label

register = template.Library()
register.filter("activity_label", activity_label)
